"""The posted journal as a Beancount ledger (ADR 0039), for `bean-check` and a finance team's
own queries.

- Accounts: `<Class>:<legal entity>:<ERP account>`, the class from the posting role
  (`Assets:HR-FR:411000`, `Income:HR-FR:706000`). Each component must start with a capital
  letter or a digit and hold only letters, digits and '-': a lower-case first letter is
  capitalised and any other character becomes '-'. Two different accounts that would end with
  one name are refused rather than merged.
- One `open` directive per account, dated on its first use and restricted to the currencies it
  holds; one `commodity` directive and one `operating_currency` option per currency.
- One transaction per journal entry, dated on its posting date, the entry's description as
  narration, with the metadata `entry_id`, `source_document`, `legal_entity` and, once the ERP
  booked it, `erp_document`. Each posting carries `posting_role`, `gl_account`, the line's
  dimensions that have a value (customer, contract, engagement, obligation, project code and
  the chart's own) and its `memo`, as posting metadata.
- Every amount has exactly its currency's minor digits (JPY none, BHD three): Beancount infers
  its balancing tolerance from the digits written, so one more digit would let a cent slip.
- Strings are escaped: a backslash, a double quote, a newline, a carriage return and a tab are
  written `\\\\`, `\\"`, `\\n`, `\\r`, `\\t`; other control characters become a space.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from adapters.ledger_export import currency_of, minor_digits
from application.journal_export import JournalExport, UnexportableJournalError
from application.records import PostedEntry
from domain.ledger import Account
from domain.money import EXACT

#: The Beancount account class of each posting role.
ACCOUNT_CLASS: Mapping[Account, str] = {
    Account.RECEIVABLES: "Assets",
    Account.UNBILLED_WIP: "Assets",
    Account.CASH: "Assets",
    Account.INTERCOMPANY_RECEIVABLE: "Assets",
    Account.DEFERRED_REVENUE: "Liabilities",
    Account.TAX_PAYABLE: "Liabilities",
    Account.INTERCOMPANY_PAYABLE: "Liabilities",
    Account.REVENUE: "Income",
    Account.INTERCOMPANY_REVENUE: "Income",
    Account.COST_OF_SERVICES: "Expenses",
    Account.WRITE_OFF_EXPENSE: "Expenses",
}

#: Dimensions the transaction already says (in its metadata and account names).
_SAID_BY_THE_TRANSACTION = frozenset({"legal_entity_id"})

_NOT_IN_A_COMPONENT = re.compile(r"[^A-Za-z0-9-]")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def quoted(text: str) -> str:
    """A Beancount string that reads back as `text`."""
    plain = _CONTROL.sub(" ", text)
    return '"' + "".join(_ESCAPES.get(char, char) for char in plain) + '"'


def component(text: str) -> str:
    """One component of an account name: a capital letter or digit first, then letters,
    digits and '-'."""
    cleaned = _NOT_IN_A_COMPONENT.sub("-", text)
    if not cleaned:
        raise UnexportableJournalError("an account name component cannot be empty")
    first = cleaned[0].upper()
    if not (first.isascii() and first.isalnum()):
        first = "X" + first
    return first + cleaned[1:]


def account_name(role: str, legal_entity_id: str, gl_account: str) -> str:
    """`Assets:HR-FR:411000`: the class of the posting role, the legal entity, the ERP account."""
    try:
        account_class = ACCOUNT_CLASS[Account(role)]
    except (ValueError, KeyError):
        raise UnexportableJournalError(
            f"posting role {role!r} has no Beancount account class"
        ) from None
    return f"{account_class}:{component(legal_entity_id)}:{component(gl_account)}"


def _signed(line: Mapping[str, Any], currency: str, where: str) -> str:
    """The posting's amount, debit-positive, at exactly the currency's minor digits."""
    code = currency_of(currency)
    debit = minor_digits(line["debit"], code, where)
    credit = minor_digits(line["credit"], code, where)
    amount = EXACT.subtract(debit, credit)
    return format(amount.copy_abs() if amount.is_zero() else amount, "f")


class _Accounts:
    """Every account the export names: its first use and its currencies; one name, one
    account."""

    def __init__(self) -> None:
        self.opened: dict[str, date] = {}
        self.currencies: dict[str, set[str]] = {}
        self.source: dict[str, tuple[str, str]] = {}

    def name(self, role: str, entity: str, gl_account: str, on: date, currency: str) -> str:
        name = account_name(role, entity, gl_account)
        known = self.source.setdefault(name, (entity, gl_account))
        if known != (entity, gl_account):
            raise UnexportableJournalError(
                f"account {known[1]} of {known[0]} and account {gl_account} of {entity} would "
                f"both be written {name}"
            )
        self.opened[name] = min(on, self.opened.get(name, on))
        self.currencies.setdefault(name, set()).add(currency)
        return name


def _transaction(posting: PostedEntry, accounts: _Accounts) -> list[str]:
    payload = posting.payload
    currency = payload["currency"]
    lines = [
        f"{posting.posted_on.isoformat()} * {quoted(payload['description'])}",
        f"  entry_id: {quoted(posting.entry_id)}",
        f"  source_document: {quoted(posting.source_document)}",
        f"  legal_entity: {quoted(posting.legal_entity_id)}",
    ]
    if posting.erp_document is not None:
        lines.append(f"  erp_document: {quoted(posting.erp_document)}")
    for line in payload["lines"]:
        where = f"journal entry {posting.entry_id}, line {line['line_no']}"
        name = accounts.name(
            line["posting_role"],
            posting.legal_entity_id,
            line["gl_account"],
            posting.posted_on,
            currency,
        )
        lines.append(f"  {name}  {_signed(line, currency, where)} {currency}")
        lines.append(f"    posting_role: {quoted(line['posting_role'])}")
        lines.append(f"    gl_account: {quoted(line['gl_account'])}")
        for dimension, value in line["dimensions"].items():
            if value is not None and dimension not in _SAID_BY_THE_TRANSACTION:
                lines.append(f"    {dimension}: {quoted(value)}")
        if line["memo"]:
            lines.append(f"    memo: {quoted(line['memo'])}")
    return lines


def render_beancount(export: JournalExport, entries: Sequence[PostedEntry]) -> str:
    """The entries as a Beancount ledger that `bean-check` accepts: accounts opened on first
    use, one transaction per entry, every amount at exactly its currency's minor digits."""
    accounts = _Accounts()
    transactions = [_transaction(posting, accounts) for posting in entries]
    first_use: dict[str, date] = {}
    for posting in entries:
        code = posting.payload["currency"]
        first_use[code] = min(posting.posted_on, first_use.get(code, posting.posted_on))
    head = [
        f"; Throughline journal export {export.label}",
        f"option {quoted('title')} {quoted(f'Throughline journal {export.label}')}",
        *(f"option {quoted('operating_currency')} {quoted(code)}" for code in sorted(first_use)),
        "",
        *(f"{day.isoformat()} commodity {code}" for code, day in sorted(first_use.items())),
        *_opens(accounts),
    ]
    body = [line for transaction in transactions for line in ["", *transaction]]
    return "\n".join([*head, *body]) + "\n"


def _opens(accounts: _Accounts) -> Iterable[str]:
    for name, day in sorted(accounts.opened.items(), key=lambda item: (item[1], item[0])):
        yield f"{day.isoformat()} open {name} {','.join(sorted(accounts.currencies[name]))}"
