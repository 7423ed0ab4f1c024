"""The migrations form one line: every revision has one parent and there is one head, so
`throughline db upgrade` always knows where to go (two branches that each added a migration
on the same parent must be rechained before they land)."""

from __future__ import annotations

from alembic.config import Config
from alembic.script import ScriptDirectory

from adapters.sqlalchemy.database import MIGRATIONS


def _scripts() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def test_the_migrations_have_exactly_one_head() -> None:
    assert len(_scripts().get_heads()) == 1


def test_each_migration_is_numbered_after_its_parent() -> None:
    for script in _scripts().walk_revisions():
        if script.down_revision is not None:
            assert int(script.revision) == int(str(script.down_revision)) + 1, script.path
