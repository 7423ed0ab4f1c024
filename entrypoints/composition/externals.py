"""The neighbouring systems as the running process sees them.

Real network clients for the ERP, PSA, CRM and billing platform come later; until then every
process uses the in-memory fakes from `adapters.memory`. What those fakes answer can be given
as files, so the CLI is useful against real data exports:

- the ERP customer master: JSON (a list of records, or `{"customers": [...]}`) or CSV with
  the header `customer_id,legal_entity_id,name,currency,tax_code,reverse_charge,billing_address`
  (`$THROUGHLINE_CUSTOMER_MASTER`); a JSON record may add `tax_categories`, a list of
  `{"category", "tax_code", "exemption_reason"}` (ADR 0030). The file is a seed (ADR 0035):
  at start-up each record the store does not hold yet becomes its version 1; from then on the
  ERP's pushes (`PUT /customers/{id}`, the `customer.record_updated` webhook) are what setup
  reads;
- the PSA's approved hours, for reconciliation: CSV `entry_id,work_date,hours`
  (`$THROUGHLINE_PSA_HOURS` or `reconcile --psa-hours`);
- the ERP's posted receivables, for reconciliation: CSV `number,issue_date,gross,currency`
  (`$THROUGHLINE_ERP_RECEIVABLES` or `reconcile --erp-receivables`).

A file that cannot be read raises `ExternalDataError` naming the file, the line and the field.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

import attrs

from adapters.memory import (
    FakeCrm,
    FakeCustomerMaster,
    FakeErpReceivables,
    FakeGeneralLedger,
    FakeHandover,
    FakeProjects,
    FakePsaTimeExport,
)
from adapters.serialization_hooks import PLAIN_DECIMAL
from application.ports import CustomerRecord
from domain.errors import DomainError
from domain.ids import CustomerId, LegalEntityId
from domain.money import Currency, Money
from domain.tax import CategoryCode
from entrypoints.composition.settings import Settings

T = TypeVar("T")

CUSTOMER_FIELDS = (
    "customer_id",
    "legal_entity_id",
    "name",
    "currency",
    "tax_code",
    "reverse_charge",
    "billing_address",
)
PSA_FIELDS = ("entry_id", "work_date", "hours")
ERP_FIELDS = ("number", "issue_date", "gross", "currency")

TRUE_WORDS = frozenset({"true", "yes", "y", "1"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", ""})


class ExternalDataError(Exception):
    """A file standing in for a neighbouring system could not be read."""


@attrs.define
class Externals:
    """The neighbouring systems, one object each (fakes until the real clients exist)."""

    customer_master: FakeCustomerMaster = attrs.field(factory=FakeCustomerMaster)
    projects: FakeProjects = attrs.field(factory=FakeProjects)
    handover: FakeHandover = attrs.field(factory=FakeHandover)
    general_ledger: FakeGeneralLedger = attrs.field(factory=FakeGeneralLedger)
    crm: FakeCrm = attrs.field(factory=FakeCrm)
    psa_time: FakePsaTimeExport = attrs.field(factory=FakePsaTimeExport)
    erp_receivables: FakeErpReceivables = attrs.field(factory=FakeErpReceivables)
    #: The customer master file's records: seeded into the store at start-up (ADR 0035).
    customer_seed: tuple[CustomerRecord, ...] = ()


def load_externals(settings: Settings) -> Externals:
    """The fakes, loaded from the files the settings name (each optional)."""
    externals = Externals()
    if settings.customer_master is not None:
        records = read_customer_master(settings.customer_master)
        externals.customer_master = FakeCustomerMaster(records)
        externals.customer_seed = tuple(records)
    if settings.psa_hours is not None:
        externals.psa_time.rows = read_psa_hours(settings.psa_hours)
    if settings.erp_receivables is not None:
        externals.erp_receivables.rows = read_erp_receivables(settings.erp_receivables)
    return externals


# Readers ------------------------------------------------------------------------------------


def read_customer_master(path: Path) -> list[CustomerRecord]:
    """Customer master records from a JSON or CSV file (by its suffix)."""
    if path.suffix.lower() == ".json":
        return [_customer(f"{path}, record {n}", raw) for n, raw in _json_records(path)]
    return [_customer(f"{path}, line {n}", row) for n, row in _csv_rows(path, CUSTOMER_FIELDS, 3)]


def read_psa_hours(path: Path) -> list[tuple[str, date, Decimal]]:
    """(time entry id, work date, approved hours) as the PSA exported them."""
    rows = []
    for n, row in _csv_rows(path, PSA_FIELDS, len(PSA_FIELDS)):
        where = f"{path}, line {n}"
        rows.append(
            (
                _required(where, row, "entry_id"),
                _field(where, row, "work_date", date.fromisoformat),
                _field(where, row, "hours", _decimal),
            )
        )
    return rows


def read_erp_receivables(path: Path) -> list[tuple[str, date, Money]]:
    """(invoice number, issue date, gross) as the ERP posted them."""
    rows = []
    for n, row in _csv_rows(path, ERP_FIELDS, len(ERP_FIELDS)):
        where = f"{path}, line {n}"
        currency = _field(where, row, "currency", Currency.of)
        gross = _field(where, row, "gross", _decimal)
        rows.append(
            (
                _required(where, row, "number"),
                _field(where, row, "issue_date", date.fromisoformat),
                Money(gross, currency),
            )
        )
    return rows


def _readable(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ExternalDataError(f"{path}: no such file") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as error:
        raise ExternalDataError(f"{path}: cannot be read ({error})") from None
    if not text.strip():
        raise ExternalDataError(f"{path}: the file is empty")
    return text


def _json_records(path: Path) -> Iterator[tuple[int, Mapping[str, Any]]]:
    try:
        data = json.loads(_readable(path))
    except json.JSONDecodeError as error:
        raise ExternalDataError(f"{path}: not valid JSON ({error})") from None
    if isinstance(data, dict) and set(data) == {"customers"}:
        data = data["customers"]
    if not isinstance(data, list):
        raise ExternalDataError(f'{path}: expected a list of records or {{"customers": [...]}}')
    for n, raw in enumerate(data, 1):
        if not isinstance(raw, dict):
            raise ExternalDataError(f"{path}: record {n} is not an object")
        yield n, raw


def _csv_rows(
    path: Path, fields: tuple[str, ...], required: int
) -> Iterator[tuple[int, Mapping[str, str]]]:
    """Rows keyed by header; the header must hold the first `required` fields and no others."""
    reader = csv.DictReader(_readable(path).splitlines())
    header = tuple(name.strip() for name in reader.fieldnames or ())
    missing = [f for f in fields[:required] if f not in header]
    unknown = [f for f in header if f not in fields]
    if missing or unknown:
        problems = []
        if missing:
            problems.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown column(s) {', '.join(unknown)}")
        raise ExternalDataError(f"{path}: {'; '.join(problems)}; the header is {','.join(fields)}")
    reader.fieldnames = list(header)
    for row in reader:
        if None in row or any(value is None for value in row.values()):
            raise ExternalDataError(f"{path}, line {reader.line_num}: wrong number of fields")
        yield reader.line_num, {k: v.strip() for k, v in row.items()}


def _customer(where: str, raw: Mapping[str, Any]) -> CustomerRecord:
    unknown = sorted(set(raw) - {*CUSTOMER_FIELDS, "tax_categories"})
    if unknown:
        raise ExternalDataError(f"{where}: unknown field(s) {', '.join(unknown)}")
    text = {
        k: _text(where, k, v)
        for k, v in raw.items()
        if k not in ("reverse_charge", "tax_categories")
    }
    return CustomerRecord(
        CustomerId(_required(where, text, "customer_id")),
        LegalEntityId(_required(where, text, "legal_entity_id")),
        _required(where, text, "name"),
        text.get("currency") or None,
        text.get("tax_code") or None,
        _flag(where, raw.get("reverse_charge", False)),
        text.get("billing_address") or None,
        _tax_categories(where, raw.get("tax_categories", [])),
    )


def _tax_categories(where: str, value: Any) -> tuple[CategoryCode, ...]:
    """A JSON record's codes per tax category (ADR 0030)."""
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ExternalDataError(f"{where}: tax_categories must be a list of objects")
    codes = []
    for n, item in enumerate(value):
        unknown = sorted(set(item) - {"category", "tax_code", "exemption_reason"})
        if unknown:
            raise ExternalDataError(f"{where}: tax_categories[{n}] has unknown field(s) {unknown}")
        fields = {k: _text(where, f"tax_categories[{n}].{k}", v) for k, v in item.items()}
        try:
            codes.append(
                CategoryCode(
                    fields.get("category", ""),
                    fields.get("tax_code", ""),
                    fields.get("exemption_reason", ""),
                )
            )
        except DomainError as error:
            raise ExternalDataError(f"{where}: tax_categories[{n}]: {error}") from None
    if len({c.category for c in codes}) < len(codes):
        raise ExternalDataError(f"{where}: tax_categories maps a category twice")
    return tuple(codes)


def _text(where: str, key: str, value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ExternalDataError(f"{where}: {key} must be text")
    return value.strip()


def _flag(where: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ExternalDataError(f"{where}: reverse_charge must be true or false")


def _required(where: str, row: Mapping[str, str], key: str) -> str:
    value = row.get(key, "")
    if not value:
        raise ExternalDataError(f"{where}: {key} is empty")
    return value


def _decimal(text: str) -> Decimal:
    if PLAIN_DECIMAL.fullmatch(text) is None:
        raise ValueError(text)
    return Decimal(text)


def _field(where: str, row: Mapping[str, str], key: str, parse: Callable[[str], T]) -> T:
    text = _required(where, row, key)
    try:
        return parse(text)
    except (ValueError, InvalidOperation, DomainError):
        raise ExternalDataError(f"{where}: {key} {text!r} cannot be read") from None
