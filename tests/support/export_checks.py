"""What a finance team does with a journal export, as test helpers (ADR 0039): run the real
`bean-check` on the Beancount file, let Beancount compute each account's balance, read the CSV
back with the csv module, and compare both with our trial balance.

Accounts are compared by legal entity and ERP account (`HR-FR:411000` as the Beancount name
spells them), whatever the Beancount class in front: one ERP account may carry two roles.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path

from beancount import loader
from beancount.core import realization

from adapters.ledger_export.beancount_file import component
from application.journal import trial_balance
from application.journal_export import JournalExport
from application.records import PostedEntry
from application.unit_of_work import UnitOfWork

BEAN_CHECK = Path(sys.executable).parent / "bean-check"

Balances = dict[tuple[str, str], Decimal]


def bean_check(text: str, where: Path) -> None:
    """The real `bean-check` accepts the file: exit 0, nothing said."""
    path = where / "journal.beancount"
    path.write_text(text, encoding="utf-8")
    done = subprocess.run(
        [str(BEAN_CHECK), str(path)], capture_output=True, text=True, timeout=600, check=False
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", ""), done.stdout + done.stderr


def beancount_balances(text: str) -> Balances:
    """Per `entity:gl_account` and currency, the balance Beancount computes (debits positive),
    once the loader reports no error at all."""
    entries, errors, _options = loader.load_string(text)
    assert errors == [], errors
    balances: Balances = {}
    for real in realization.iter_children(realization.realize(entries)):
        if not real.txn_postings:
            continue
        key = real.account.split(":", 1)[1]
        for position in real.balance:
            slot = (key, position.units.currency)
            balances[slot] = balances.get(slot, Decimal(0)) + position.units.number
    return _nonzero(balances)


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _amount(text: str) -> Decimal:
    return Decimal(text) if text else Decimal(0)


def unbalanced_csv_entries(rows: Iterable[dict[str, str]]) -> dict[tuple[str, str], Decimal]:
    """Per entry and currency whose debits differ from its credits, the difference."""
    difference: dict[tuple[str, str], Decimal] = {}
    for row in rows:
        key = (row["entry_id"], row["currency"])
        moved = _amount(row["debit"]) - _amount(row["credit"])
        difference[key] = difference.get(key, Decimal(0)) + moved
    return {key: value for key, value in difference.items() if value != 0}


def csv_balances(rows: Iterable[dict[str, str]]) -> Balances:
    """Per `entity:gl_account` and currency, debits less credits of the CSV's rows."""
    balances: Balances = {}
    for row in rows:
        key = (
            f"{component(row['legal_entity_id'])}:{component(row['gl_account'])}",
            row["currency"],
        )
        moved = _amount(row["debit"]) - _amount(row["credit"])
        balances[key] = balances.get(key, Decimal(0)) + moved
    return _nonzero(balances)


def trial_balances(uow: UnitOfWork, export: JournalExport, entities: Iterable[str]) -> Balances:
    """Our trial balance of each legal entity over the export's range, keyed the same way."""
    balances: Balances = {}
    for entity in entities:
        for row in trial_balance(uow, export.period, entity):
            balances[(f"{component(entity)}:{component(row.gl_account)}", row.currency)] = (
                row.balance
            )
    return _nonzero(balances)


def _nonzero(balances: Balances) -> Balances:
    return {key: value for key, value in sorted(balances.items()) if value != 0}


def check_ledger(text: str, expected: Balances, where: Path) -> None:
    """bean-check accepts the Beancount ledger, and its balances are `expected` exactly."""
    bean_check(text, where)
    assert beancount_balances(text) == expected


def check_csv(
    text: str, entries: Sequence[PostedEntry], expected: Balances
) -> list[dict[str, str]]:
    """The CSV has one row per line of `entries`, each entry balances, and the balances are
    `expected` exactly; its rows."""
    rows = csv_rows(text)
    assert len(rows) == sum(len(e.payload["lines"]) for e in entries)
    assert unbalanced_csv_entries(rows) == {}
    assert csv_balances(rows) == expected
    return rows
