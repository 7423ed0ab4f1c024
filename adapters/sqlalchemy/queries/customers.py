"""Customers on SQL: the known customers keyset-paged over the union of the tables that know
them, and the facts of one page read with one statement per table, for the page's customers
only."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from adapters.serialization import structure
from adapters.sqlalchemy import codec
from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.queries.reading import EngineQueries, reading
from application.ports import CustomerMaster, CustomerRecord
from application.queries.customers import (
    CustomerContract,
    CustomerEngagement,
    CustomerFacts,
    CustomerReadModel,
    MasterDataException,
)
from application.records import ExceptionKind, ExceptionState, IntegrationException
from domain.tax import TaxProfile, TaxRateTable

T = TypeVar("T")


def sql_customers(engine: Engine, master: CustomerMaster) -> CustomerReadModel:
    """The customers' query port on `engine`, asking `master` where nothing was pushed."""
    return CustomerReadModel(SqlCustomerFacts(engine), master)


class SqlCustomerFacts(EngineQueries):
    """`CustomerFactsSource` on SQLite and PostgreSQL."""

    def known(self, after: str | None, limit: int, only: str | None = None) -> list[str]:
        ids = _known_ids().subquery()
        statement = sa.select(ids.c.customer_id).distinct()
        if after is not None:
            statement = statement.where(ids.c.customer_id > after)
        if only is not None:
            statement = statement.where(ids.c.customer_id == only)
        statement = statement.order_by(ids.c.customer_id).limit(limit)
        with reading(self._engine) as connection:
            return list(connection.execute(statement).scalars())

    def facts(self, customer_ids: Sequence[str]) -> list[CustomerFacts]:
        wanted = list(dict.fromkeys(customer_ids))
        if not wanted:
            return []
        with reading(self._engine) as connection:
            contracts = _contracts(connection, wanted)
            engagements = _engagements(connection, wanted)
            profiles = _profiles(connection, wanted)
            pushed = _current_records(connection, wanted)
            subjects = {
                f"engagement:{e.engagement_id}": customer
                for customer, rows in engagements.items()
                for e in rows
            }
            exceptions = _open_master_data(connection, subjects)
        known = set(contracts) | set(engagements) | set(profiles) | set(pushed)
        return [
            CustomerFacts(
                customer,
                tuple(contracts.get(customer, ())),
                tuple(engagements.get(customer, ())),
                profiles.get(customer, {}),
                pushed.get(customer, {}),
                tuple(exceptions.get(customer, ())),
            )
            for customer in wanted
            if customer in known
        ]

    def records(self, customer_id: str) -> list[CustomerRecord] | None:
        c = t.customer_records.c
        statement = (
            sa.select(t.customer_records)
            .where(c.customer_id == customer_id)
            .order_by(c.legal_entity_id, c.version)
        )
        with reading(self._engine) as connection:
            rows = connection.execute(statement).mappings()
            versions = [codec.customer_record(row) for row in rows]
            if versions:
                return versions
            ids = _known_ids().subquery()
            known = connection.execute(
                sa.select(ids.c.customer_id).where(ids.c.customer_id == customer_id).limit(1)
            ).first()
        return [] if known is not None else None

    def tax_rates(self) -> TaxRateTable:
        statement = sa.select(t.tax_rates.c.body).where(t.tax_rates.c.id == 1)
        with reading(self._engine) as connection:
            body = connection.execute(statement).scalar()
        return TaxRateTable() if body is None else structure(body, TaxRateTable)


def _known_ids() -> sa.CompoundSelect:
    return sa.union_all(
        sa.select(t.contracts.c.customer_id),
        sa.select(t.engagements.c.customer_id),
        sa.select(t.tax_profiles.c.customer_id),
        sa.select(t.customer_records.c.customer_id),
    )


def _contracts(connection: Connection, wanted: list[str]) -> dict[str, list[CustomerContract]]:
    c = t.contracts.c
    statement = (
        sa.select(
            c.id,
            c.customer_id,
            c.body["legal_entity_id"].as_string().label("legal_entity_id"),
            c.body["currency"].as_string().label("currency"),
        )
        .where(c.customer_id.in_(wanted))
        .order_by(c.id)
    )
    return _by_customer(
        connection, statement, lambda r: CustomerContract(r.id, r.legal_entity_id, r.currency)
    )


def _engagements(connection: Connection, wanted: list[str]) -> dict[str, list[CustomerEngagement]]:
    c = t.engagements.c
    statement = (
        sa.select(c.id, c.customer_id, c.contract_id, c.state)
        .where(c.customer_id.in_(wanted))
        .order_by(c.id)
    )
    return _by_customer(
        connection, statement, lambda r: CustomerEngagement(r.id, r.contract_id, r.state)
    )


def _by_customer(
    connection: Connection, statement: sa.Select[Any], shape: Callable[[sa.Row[Any]], T]
) -> dict[str, list[T]]:
    """The rows of `statement` shaped, grouped by their `customer_id`, in the statement's order."""
    found: dict[str, list[T]] = {}
    for row in connection.execute(statement):
        found.setdefault(row.customer_id, []).append(shape(row))
    return found


class _PerEntity(Protocol):
    @property
    def customer_id(self) -> str: ...

    @property
    def legal_entity_id(self) -> str: ...


E = TypeVar("E", bound=_PerEntity)


def _by_customer_and_entity(
    connection: Connection, statement: sa.Select[Any], decode: Callable[[Any], E]
) -> dict[str, dict[str, E]]:
    """The rows of `statement` decoded, by customer, then by legal entity."""
    found: dict[str, dict[str, E]] = {}
    for row in connection.execute(statement).mappings():
        item = decode(row)
        found.setdefault(item.customer_id, {})[item.legal_entity_id] = item
    return found


def _profiles(connection: Connection, wanted: list[str]) -> dict[str, dict[str, TaxProfile]]:
    c = t.tax_profiles.c
    statement = sa.select(t.tax_profiles).where(c.customer_id.in_(wanted))
    return _by_customer_and_entity(connection, statement, codec.tax_profile)


def _current_records(
    connection: Connection, wanted: list[str]
) -> dict[str, dict[str, CustomerRecord]]:
    c = t.customer_records.c
    latest = (
        sa.select(c.customer_id, c.legal_entity_id, sa.func.max(c.version).label("version"))
        .where(c.customer_id.in_(wanted))
        .group_by(c.customer_id, c.legal_entity_id)
        .subquery()
    )
    statement = sa.select(t.customer_records).join(
        latest,
        sa.and_(
            c.customer_id == latest.c.customer_id,
            c.legal_entity_id == latest.c.legal_entity_id,
            c.version == latest.c.version,
        ),
    )
    return _by_customer_and_entity(connection, statement, codec.customer_record)


def _open_master_data(
    connection: Connection, subjects: dict[str, str]
) -> dict[str, list[MasterDataException]]:
    if not subjects:
        return {}
    c = t.integration_exceptions.c
    statement = (
        sa.select(c.body)
        .where(
            c.subject.in_(sorted(subjects)),
            c.state != ExceptionState.RESOLVED.value,
        )
        .order_by(c.id)
    )
    found: dict[str, list[MasterDataException]] = {}
    for body in connection.execute(statement).scalars():
        x: Any = structure(body, IntegrationException)
        if x.kind is not ExceptionKind.MASTER_DATA:
            continue
        row = MasterDataException(
            x.exception_id, x.subject, x.reason_code, x.detail, x.state.value, x.created_at
        )
        found.setdefault(subjects[x.subject], []).append(row)
    return found
