"""The billing run's bulk reads (`application.billing_reads`): the time entries as one
driver-level statement, the contracts' outlines and the contracts themselves untracked.

A run reads every time entry of thousands of obligations. Through Core each of 200k rows is
a row object with a result processor per typed column, then a tracked entry in the delivery
store's identity map; here one statement goes straight to the driver (the obligations as one
JSON array on SQLite, one array on PostgreSQL, so its text never changes), and each plain
tuple becomes an entry through the codec, which parses each distinct day and decimal text
once. Nothing is tracked: the entries a run changes are read again through the delivery store.

The outlines read the engagements' state column and, of each contract's snapshot, only the
obligation ids of its binding versions: no contract or engagement is built (ADR 0060).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import sqlalchemy as sa

from adapters.serialization import structure
from adapters.sqlalchemy import codec
from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.repository_base import Session
from adapters.sqlalchemy.time_entry_rows import time_rows_for
from application.billing_reads import ContractOutline
from domain.contract import Contract, VersionState
from domain.engagement import EngagementState
from domain.ids import ContractId, CustomerId, LegalEntityId, ObligationId
from domain.time_entry import TimeEntry
from domain.time_rows import TimeRow

_COLUMNS = ", ".join(codec.TIME_ENTRY_NAMES)
_SQLITE = (
    f"SELECT {_COLUMNS} FROM time_entries"
    " WHERE obligation_id IN (SELECT value FROM json_each(?)) ORDER BY entry_id"
)
_POSTGRESQL = f"SELECT {_COLUMNS} FROM time_entries WHERE obligation_id = ANY(%s) ORDER BY entry_id"

#: The version states `ContractVersion.is_binding` names (a test holds the two together).
BINDING_STATES = frozenset(
    s.value for s in (VersionState.APPROVED, VersionState.SUPERSEDED, VersionState.TERMINATED)
)


class SqlAlchemyBillingReads:
    def __init__(self, session: Session) -> None:
        self._session = session

    def time_entries_for(self, obligations: Iterable[ObligationId]) -> list[TimeEntry]:
        wanted = sorted(set(obligations))
        if not wanted:
            return []
        cursor = self._session.connection.connection.cursor()
        try:
            if self._session.dialect == "sqlite":
                cursor.execute(_SQLITE, (json.dumps(wanted),))
            else:
                cursor.execute(_POSTGRESQL, (wanted,))
            rows = cursor.fetchall()
        finally:
            cursor.close()
        entry = codec.time_entry_from_tuple
        return [entry(row) for row in rows]

    def time_rows_for(self, obligations: Iterable[ObligationId]) -> list[TimeRow]:
        return time_rows_for(self._session, obligations)

    def outlines(self, contracts: Iterable[ContractId] | None = None) -> list[ContractOutline]:
        c = t.contracts.c
        states = self._states(contracts)
        return [
            outline_of(row.body, states.get(row.id))
            for row in self._rows(sa.select(c.id, c.body), c.id, contracts, c.id)
        ]

    def outlines_after(self, after: ContractId | None, limit: int) -> list[ContractOutline]:
        # PostgreSQL orders text by the database's collation; "C" orders it as Python does.
        c = t.contracts.c
        key = c.id.collate("C") if self._session.dialect == "postgresql" else c.id
        statement = sa.select(c.id, c.body).order_by(key).limit(limit)
        if after is not None:
            statement = statement.where(key > after)
        rows = self._session.connection.execute(statement).all()
        states = self._states([row.id for row in rows])
        return [outline_of(row.body, states.get(row.id)) for row in rows]

    def _states(self, contracts: Iterable[ContractId] | None) -> dict[str, EngagementState]:
        """The state of each contract's engagement: the last by id, as for_contracts."""
        e, states = t.engagements.c, {}
        for row in self._rows(sa.select(e.contract_id, e.state), e.contract_id, contracts, e.id):
            states[row.contract_id] = EngagementState(row.state)
        return states

    def contracts(self, contracts: Iterable[ContractId]) -> list[Contract]:
        c = t.contracts.c
        rows = self._rows(sa.select(c.body), c.id, contracts, c.id)
        return [structure(row.body, Contract) for row in rows]

    def _rows(
        self,
        statement: sa.Select[Any],
        key: sa.Column[str],
        among: Iterable[str] | None,
        order: sa.Column[Any],
    ) -> Iterator[Any]:
        """The statement's rows, for every key (None) or those given, ordered by `order`
        within each batch of keys (the batches go in key order)."""
        connection = self._session.connection
        if among is None:
            yield from connection.execute(statement.order_by(order))
            return
        for clause in self._session.among(key, among):
            yield from connection.execute(statement.where(clause).order_by(order))


def outline_of(body: dict[str, Any], state: EngagementState | None) -> ContractOutline:
    """A contract's outline from its snapshot, without building the contract."""
    customer = CustomerId(body["customer_id"])
    return ContractOutline(
        ContractId(body["contract_id"]),
        obligation_ids_of(body),
        state,
        customer,
        LegalEntityId(body["legal_entity_id"]),
        payer_ids_of(body, customer),
    )


def payer_ids_of(body: dict[str, Any], customer: CustomerId) -> tuple[CustomerId, ...]:
    """`Contract.payer_ids` of a contract's snapshot: the customer, then every payer a binding
    version names, in first-seen order."""
    seen: dict[CustomerId, None] = {customer: None}
    for version in body["versions"]:
        if version["state"] in BINDING_STATES:
            for declared in version["payers"]:
                for payer in declared["payers"]:
                    seen.setdefault(CustomerId(payer["payer_id"]), None)
    return tuple(seen)


def obligation_ids_of(body: dict[str, Any]) -> tuple[ObligationId, ...]:
    """`Contract.obligation_ids` of a contract's snapshot, without building the contract:
    every obligation any binding version holds, in first-seen order."""
    seen: dict[ObligationId, None] = {}
    for version in body["versions"]:
        if version["state"] in BINDING_STATES:
            for terms in version["obligations"]:
                seen.setdefault(ObligationId(terms["obligation_id"]), None)
    return tuple(seen)
