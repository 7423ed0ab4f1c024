"""The posting path to the ERP on real databases: the suite of
`tests/unit/application/test_journal_posting.py` again on SQLite and PostgreSQL (the journal,
the outbox row keyed by the entry id and the ERP's acknowledgement in migration 0014's table)."""

from __future__ import annotations

from tests.unit.application.test_journal_posting import *  # noqa: F403
