"""The settled marks of committed billing runs in SQL (ADR 0048), one row per obligation.

A stamp is read from what the tables already keep, with one aggregate query per table and no
row loaded: the contract's revision, the rate cards' count and revisions, and per obligation
the count and summed revisions of its time entries, expenses and milestones (a change bumps a
revision; entries are only ever added), then the count and last id of its ledger rows (a
discard deletes rows, every write adds rows with higher ids).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.repository_base import Session
from application.billing_marks import BillingStamp, Observation
from domain.ids import ContractId, ObligationId
from domain.period import Period


class SqlAlchemyBillingMarks:
    def __init__(self, session: Session) -> None:
        self._session = session

    def observe(
        self, period: Period, obligations: Mapping[ObligationId, ContractId]
    ) -> Observation:
        stamps = self._stamps(obligations)
        stored, key = self._stored(stamps), period.key
        settled = frozenset(
            oid
            for oid, s in stamps.items()
            if stored.get(oid) == (key, _text(s.inputs, s.ledger_rows, s.ledger_last))
        )
        return Observation(period, stamps, settled)

    def mark(
        self,
        observation: Observation,
        obligations: Iterable[ObligationId],
        added: Mapping[ObligationId, int],
    ) -> None:
        wanted = list(dict.fromkeys(oid for oid in obligations if oid in observation.stamps))
        if not wanted:
            return
        ledger = self._ledger({oid: observation.stamps[oid].contract_id for oid in wanted})
        rows, key = [], observation.period.key
        for oid in wanted:
            seen = observation.stamps[oid]
            count, last = ledger.get(oid, (0, "0"))
            if count != seen.ledger_rows + added.get(oid, 0):
                continue  # another writer changed this ledger since the run read it
            stamp = _text(seen.inputs, count, last)
            rows.append({"obligation_id": oid, "period": key, "stamp": stamp})
        self._write(rows)

    # Reads -------------------------------------------------------------------------------

    def _stamps(
        self, obligations: Mapping[ObligationId, ContractId]
    ) -> dict[ObligationId, BillingStamp]:
        if not obligations:
            return {}
        contracts = self._contract_revisions(set(obligations.values()))
        cards = self._rate_cards()
        entries = self._counted(t.time_entries, obligations)
        expenses = self._counted(t.expenses, obligations)
        milestones = self._counted(t.milestones, obligations)
        # Records of declared delivery kinds (ADR 0050): a correction bumps the revision.
        records = self._counted(t.delivery_records, obligations)
        ledger = self._ledger(obligations)
        stamps = {}
        for oid, contract_id in obligations.items():
            inputs = (
                f"c{contracts.get(contract_id, 0)}|r{cards}|t{entries.get(oid, '0.0')}"
                f"|x{expenses.get(oid, '0.0')}|m{milestones.get(oid, '0.0')}"
                f"|d{records.get(oid, '0.0')}"
            )
            count, last = ledger.get(oid, (0, "0"))
            stamps[oid] = BillingStamp(contract_id, inputs, count, last)
        return stamps

    def _contract_revisions(self, contracts: Iterable[str]) -> dict[str, int]:
        table, found = t.contracts, {}
        for clause in self._session.among(table.c.id, contracts):
            statement = sa.select(table.c.id, table.c.revision).where(clause)
            found.update(dict(self._session.connection.execute(statement).all()))
        return found

    def _rate_cards(self) -> str:
        table = t.rate_cards
        statement = sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(table.c.revision), 0))
        count, revisions = self._session.connection.execute(statement).one()
        return f"{count}.{revisions}"

    def _counted(self, table: sa.Table, obligations: Iterable[str]) -> dict[str, str]:
        """Per obligation: how many rows, and their revisions summed."""
        found = {}
        for clause in self._session.among(table.c.obligation_id, obligations):
            for oid, count, revisions in self._session.connection.execute(counted(table, clause)):
                found[oid] = f"{count}.{revisions}"
        return found

    def _ledger(self, obligations: Mapping[ObligationId, ContractId]) -> dict[str, tuple[int, str]]:
        """Per obligation: its ledger rows and the last row's id (read by the contract index)."""
        table, found = t.ledger_entries, {}
        wanted = set(obligations)
        for clause in self._session.among(table.c.contract_id, set(obligations.values())):
            statement = (
                sa.select(table.c.obligation_id, sa.func.count(), sa.func.max(table.c.id))
                .where(clause)
                .group_by(table.c.obligation_id)
            )
            for oid, count, last in self._session.connection.execute(statement):
                if oid in wanted:
                    found[oid] = (count, str(last))
        return found

    def _stored(self, obligations: Iterable[str]) -> dict[str, tuple[str, str]]:
        table, found = t.billing_marks, {}
        for clause in self._session.among(table.c.obligation_id, obligations):
            statement = sa.select(table.c.obligation_id, table.c.period, table.c.stamp).where(
                clause
            )
            for oid, period, stamp in self._session.connection.execute(statement):
                found[oid] = (period, stamp)
        return found

    # Writes ------------------------------------------------------------------------------

    def _write(self, rows: list[dict[str, str]]) -> None:
        """One upsert statement, compiled once, executed for every row (not a statement with
        hundreds of VALUES compiled per batch)."""
        if rows:
            self._session.connection.execute(_upsert(self._session.dialect), rows)


def counted(table: sa.Table, among: sa.ColumnElement[bool]) -> sa.Select[Any]:
    """How many rows of a delivery table each obligation `among` matches has, and their
    revisions summed: on time entries, read from the (obligation, revision) index alone."""
    column = table.c.obligation_id
    statement = sa.select(column, sa.func.count(), sa.func.sum(table.c.revision))
    return statement.where(among).group_by(column)


@functools.cache
def _upsert(dialect: str) -> Any:
    """Insert a mark or overwrite the obligation's (parameters: obligation_id, period, stamp)."""
    table = t.billing_marks
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table)
    changes = {"period": statement.excluded.period, "stamp": statement.excluded.stamp}
    return statement.on_conflict_do_update(index_elements=["obligation_id"], set_=changes)


def _text(inputs: str, ledger_rows: int, ledger_last: str) -> str:
    return f"{inputs}|l{ledger_rows}.{ledger_last}"
