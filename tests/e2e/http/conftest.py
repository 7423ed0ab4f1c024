"""Fixtures every module of this folder may name: `api`, the app on the in-memory adapters,
and `api_on`, the app on each store in turn (tests/e2e/http/sql_harness.py), with the
session's migrated SQLite template and PostgreSQL schema it copies or empties for each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.http.harness import Api, running_api
from tests.e2e.http.sql_harness import api_on, postgres_admin, postgres_schema, sqlite_template

__all__ = ["api_on", "postgres_admin", "postgres_schema", "sqlite_template"]


@pytest.fixture
def api() -> Iterator[Api]:
    with running_api() as running:
        yield running
