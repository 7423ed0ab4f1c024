"""What the process is configured with: where the database is, and where the stand-ins for
the neighbouring systems read their data from. Read from the environment once, at the edge."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import attrs

DATABASE_URL_VARIABLE = "THROUGHLINE_DATABASE_URL"
CUSTOMER_MASTER_VARIABLE = "THROUGHLINE_CUSTOMER_MASTER"
PSA_HOURS_VARIABLE = "THROUGHLINE_PSA_HOURS"
ERP_RECEIVABLES_VARIABLE = "THROUGHLINE_ERP_RECEIVABLES"
ACTOR_VARIABLE = "THROUGHLINE_ACTOR"

#: The in-memory database: lives as long as the process (tests, embedding, one-shot runs).
MEMORY_URL = "memory://"


def default_database_url() -> str:
    """`$THROUGHLINE_DATABASE_URL`, else the SQLite file under `var/` (the adapter decides)."""
    from adapters.sqlalchemy.database import default_database_url as adapter_default

    return adapter_default()


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


@attrs.frozen
class Settings:
    database_url: str
    customer_master: Path | None = None
    psa_hours: Path | None = None
    erp_receivables: Path | None = None

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, database_url: str | None = None
    ) -> Settings:
        """The settings the environment gives; an explicit `database_url` wins over it."""
        env = os.environ if environ is None else environ
        url = database_url or env.get(DATABASE_URL_VARIABLE) or default_database_url()
        return cls(
            url,
            _path(env.get(CUSTOMER_MASTER_VARIABLE)),
            _path(env.get(PSA_HOURS_VARIABLE)),
            _path(env.get(ERP_RECEIVABLES_VARIABLE)),
        )
