"""The general ledger: accounts, balanced journal entries and the postings of contract-to-cash.

Every posting is derived from the obligation's contract position *before* the posting
(`ObligationBalance`): what it has recognised and what it has billed. The contract asset
(unbilled WIP) and the contract liability (deferred revenue) are netted per obligation, so an
obligation never carries both; each posting moves them from the position before to the
position after, which is why an invoice first relieves WIP and only then defers, and why
recognition first releases deferred revenue and only then accrues WIP.

Nothing is posted on a date inside a closed accounting period: every posting function asks the
`PeriodLock` before doing anything else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import InvalidOperation
from enum import Enum

import attrs

from domain.accounting_period import PeriodLock
from domain.errors import DomainError, UnbalancedJournalError
from domain.ids import ObligationId
from domain.money import Currency, Money, money_sum


class Account(Enum):
    """The general-ledger accounts the contract-to-cash postings touch."""

    RECEIVABLES = "receivables"
    UNBILLED_WIP = "unbilled_wip"  # contract asset
    DEFERRED_REVENUE = "deferred_revenue"  # contract liability
    REVENUE = "revenue"
    TAX_PAYABLE = "tax_payable"
    CASH = "cash"
    # Intercompany recharges (ADR 0031): the provider's and the recipient's sides.
    INTERCOMPANY_RECEIVABLE = "intercompany_receivable"
    INTERCOMPANY_REVENUE = "intercompany_revenue"
    COST_OF_SERVICES = "cost_of_services"
    INTERCOMPANY_PAYABLE = "intercompany_payable"
    # Receivables given up (ADR 0033): the expense a write-off books.
    WRITE_OFF_EXPENSE = "write_off_expense"


class NothingToPostError(DomainError):
    """A journal entry moves money: an entry whose every amount is zero is not posted."""

    code = "nothing_to_post"


class NegativeDocumentAmountError(DomainError):
    """Invoices, credit memos and payments post amounts of zero or more; the document type
    gives the direction."""

    code = "negative_document_amount"


class TaxBreakdownMismatchError(DomainError):
    """The tax lines of a posting, one per tax code, add up exactly to the document's tax."""

    code = "tax_breakdown_mismatch"


class MissingObligationBalanceError(DomainError):
    """A posting to an obligation needs the obligation's recognised and billed position."""

    code = "missing_obligation_balance"


# Contract position per obligation ----------------------------------------------------------


def _positive_part(amount: Money) -> Money:
    return amount if amount.is_positive() else Money.zero(amount.currency)


@attrs.frozen
class ObligationBalance:
    """What one obligation has recognised and billed; WIP and deferred revenue are netted."""

    obligation_id: ObligationId
    recognised: Money
    billed: Money

    @classmethod
    def nothing_yet(cls, obligation_id: ObligationId, currency: Currency) -> ObligationBalance:
        """An obligation that has neither earned nor billed anything."""
        return cls(obligation_id, Money.zero(currency), Money.zero(currency))

    @property
    def currency(self) -> Currency:
        return self.recognised.currency

    @property
    def unbilled_wip(self) -> Money:
        """Contract asset: revenue earned but not yet billed (recognised − billed, if positive)."""
        return _positive_part(self.recognised - self.billed)

    @property
    def deferred(self) -> Money:
        """Contract liability: billed ahead of earning (billed − recognised, if positive)."""
        return _positive_part(self.billed - self.recognised)

    def after_billing(self, net: Money) -> ObligationBalance:
        """The position once `net` more is billed (negative for a credit)."""
        return attrs.evolve(self, billed=self.billed + net)

    def after_recognition(self, revenue: Money) -> ObligationBalance:
        """The position once `revenue` more is recognised (negative for a downward catch-up)."""
        return attrs.evolve(self, recognised=self.recognised + revenue)


# Journal entries ---------------------------------------------------------------------------


@attrs.frozen
class JournalLine:
    """One side of a journal entry: a debit or a credit (the other side is zero)."""

    account: Account
    debit: Money
    credit: Money
    obligation_id: ObligationId | None = None
    memo: str = ""
    #: The tax code a tax payable line stands for (None on every other line, ADR 0040).
    tax_code: str | None = None

    @classmethod
    def debiting(
        cls,
        account: Account,
        amount: Money,
        obligation_id: ObligationId | None = None,
        memo: str = "",
        tax_code: str | None = None,
    ) -> JournalLine:
        """Debit an account."""
        return cls(account, amount, Money.zero(amount.currency), obligation_id, memo, tax_code)

    @classmethod
    def crediting(
        cls,
        account: Account,
        amount: Money,
        obligation_id: ObligationId | None = None,
        memo: str = "",
        tax_code: str | None = None,
    ) -> JournalLine:
        """Credit an account."""
        return cls(account, Money.zero(amount.currency), amount, obligation_id, memo, tax_code)

    @property
    def is_debit(self) -> bool:
        return not self.debit.is_zero()

    @property
    def net_debit(self) -> Money:
        """Debit-positive movement of the account."""
        return self.debit - self.credit


def _minor_units(amount: Money, where: str) -> int:
    """The amount in whole minor units, or a refusal naming the offending line."""
    try:
        if not amount.amount.is_finite() or amount.quantized() != amount:
            raise UnbalancedJournalError(
                f"{where}: {amount.amount} {amount.currency} is not a whole number of "
                f"{amount.currency} minor units"
            )
    except InvalidOperation:
        raise UnbalancedJournalError(
            f"{where}: {amount.amount} {amount.currency} cannot be posted"
        ) from None
    return amount.minor


@attrs.frozen
class JournalEntry:
    """A balanced journal entry. Build it with `JournalEntry.balanced`, never directly."""

    entry_id: str
    posted_on: date
    description: str
    lines: tuple[JournalLine, ...]
    source_document: str

    @classmethod
    def balanced(
        cls,
        entry_id: str,
        posted_on: date,
        description: str,
        lines: Iterable[JournalLine],
        source_document: str,
    ) -> JournalEntry:
        """An entry whose debits equal its credits exactly, in whole minor units of one
        currency, each line moving a positive amount on exactly one side."""
        entry_lines = tuple(lines)
        if not entry_lines:
            raise NothingToPostError(f"journal entry {entry_id} has no lines")
        currency = entry_lines[0].debit.currency
        debits = credits = 0
        for number, line in enumerate(entry_lines, start=1):
            where = f"journal entry {entry_id}, line {number} ({line.account.value})"
            for side in (line.debit, line.credit):
                if side.currency != currency:
                    raise UnbalancedJournalError(
                        f"{where}: {side.currency} in an entry in {currency}; "
                        "every line of an entry is in one currency"
                    )
            debit = _minor_units(line.debit, where)
            credit = _minor_units(line.credit, where)
            if debit < 0 or credit < 0 or (debit == 0) == (credit == 0):
                raise UnbalancedJournalError(
                    f"{where}: a line debits or credits a positive amount, never both "
                    f"(debit {line.debit}, credit {line.credit})"
                )
            debits += debit
            credits += credit
        if debits != credits:
            total_dr = Money.from_minor(debits, currency)
            total_cr = Money.from_minor(credits, currency)
            raise UnbalancedJournalError(
                f"journal entry {entry_id} does not balance: debits {total_dr}, credits {total_cr}"
            )
        return cls(entry_id, posted_on, description, entry_lines, source_document)

    @property
    def currency(self) -> Currency:
        return self.lines[0].debit.currency

    @property
    def total_debits(self) -> Money:
        return money_sum((line.debit for line in self.lines), self.currency)

    @property
    def total_credits(self) -> Money:
        return money_sum((line.credit for line in self.lines), self.currency)


def trial_balance(entries: Iterable[JournalEntry]) -> dict[Account, Money]:
    """Each account's balance over the entries, debit-positive (credit balances are negative)."""
    totals: dict[Account, Money] = {}
    for entry in entries:
        for line in entry.lines:
            so_far = totals.get(line.account)
            totals[line.account] = line.net_debit if so_far is None else so_far + line.net_debit
    return {account: totals[account] for account in Account if account in totals}


# Postings ----------------------------------------------------------------------------------


def _movement(
    account: Account,
    net_debit: Money,
    obligation_id: ObligationId | None,
    memo: str,
    tax_code: str | None = None,
) -> list[JournalLine]:
    """A debit-positive movement as a line on the right side; nothing for zero."""
    if net_debit.is_zero():
        return []
    if net_debit.is_positive():
        return [JournalLine.debiting(account, net_debit, obligation_id, memo, tax_code)]
    return [JournalLine.crediting(account, -net_debit, obligation_id, memo, tax_code)]


def _contract_moves(
    before: ObligationBalance, after: ObligationBalance, memo: str
) -> list[JournalLine]:
    """Move WIP and deferred revenue from one netted position to the next.

    WIP is an asset (an increase is a debit), deferred revenue a liability (an increase is a
    credit). Because both are derived from the netted position, a change first uses up the
    balance on the opposite side and only then builds the other; the lines read in that order.
    """
    oid = before.obligation_id
    wip = after.unbilled_wip - before.unbilled_wip
    deferred = after.deferred - before.deferred
    wip_lines = _movement(Account.UNBILLED_WIP, wip, oid, memo)
    deferred_lines = _movement(Account.DEFERRED_REVENUE, -deferred, oid, memo)
    if wip.is_negative():
        return wip_lines + deferred_lines
    return deferred_lines + wip_lines


def _balance_of(
    balances: Mapping[ObligationId, ObligationBalance], obligation_id: ObligationId
) -> ObligationBalance:
    try:
        balance = balances[obligation_id]
    except KeyError:
        raise MissingObligationBalanceError(
            f"no recognised/billed position was given for obligation {obligation_id}"
        ) from None
    if balance.obligation_id != obligation_id:
        raise MissingObligationBalanceError(
            f"the position given for obligation {obligation_id} is that of {balance.obligation_id}"
        )
    return balance


def _not_negative(amount: Money, what: str) -> Money:
    if amount.is_negative():
        raise NegativeDocumentAmountError(f"{what} is {amount}; it must be zero or more")
    return amount


def _debits_first(lines: Iterable[JournalLine]) -> list[JournalLine]:
    """The conventional layout: debits, then credits, otherwise in the order produced."""
    return sorted(lines, key=lambda line: not line.is_debit)


def _tax_lines(
    sign: int,
    document_id: str,
    tax: Money,
    tax_by_code: Mapping[str, Money] | None,
) -> list[JournalLine]:
    """One tax payable line per tax code that carries tax, in code order; a document whose
    tax is not broken down by code posts one line without a code."""
    if tax_by_code is None:
        return _movement(Account.TAX_PAYABLE, tax.times(-sign), None, f"{document_id} tax")
    parts = {
        code: _not_negative(amount, f"the {code} tax of {document_id}")
        for code, amount in tax_by_code.items()
    }
    total = money_sum(parts.values(), tax.currency)
    if total != tax:
        raise TaxBreakdownMismatchError(
            f"the tax of {document_id} is {tax}, but its tax codes add up to {total}"
        )
    lines: list[JournalLine] = []
    for code in sorted(parts):
        memo = f"{document_id} tax {code}"
        lines += _movement(Account.TAX_PAYABLE, parts[code].times(-sign), None, memo, code)
    return lines


def moves_nothing(net_by_obligation: Mapping[ObligationId, Money], tax: Money) -> bool:
    """Whether a billing document comes to zero on every obligation and in tax, so that its
    posting would move no account. Such a document (a credit of a fraction of a cent that
    cumulative rounding gave to an earlier credit) is still issued and numbered, for what it
    releases; no journal entry is posted for it."""
    return tax.is_zero() and all(net.is_zero() for net in net_by_obligation.values())


@attrs.frozen
class BillingPosting:
    """The posting of a billing document: an invoice issued (`sign` +1) or a credit memo
    (`sign` −1), which is the same movement reversed. Called like a function."""

    sign: int
    #: What the period lock is asked to allow ("post an invoice").
    action: str
    #: The entry's description, before the document's number ("Issue of invoice").
    title: str

    def __call__(
        self,
        entry_id: str,
        document_id: str,
        on: date,
        net_by_obligation: Mapping[ObligationId, Money],
        tax: Money,
        balances: Mapping[ObligationId, ObligationBalance],
        lock: PeriodLock,
        tax_by_code: Mapping[str, Money] | None = None,
    ) -> JournalEntry:
        """The document's gross on receivables, its net per obligation against the contract
        position before it, and its tax (per tax code when broken down). Amounts are positive."""
        lock.check(on, self.action)
        _not_negative(tax, f"the tax of {document_id}")
        nets = {
            oid: _not_negative(net, f"the net of {document_id} for obligation {oid}")
            for oid, net in net_by_obligation.items()
        }
        gross = money_sum(nets.values(), tax.currency) + tax
        lines = _movement(Account.RECEIVABLES, gross.times(self.sign), None, f"{document_id} gross")
        for oid in sorted(nets):
            before = _balance_of(balances, oid)
            after = before.after_billing(nets[oid].times(self.sign))
            lines += _contract_moves(before, after, f"{document_id} net for {oid}")
        lines += _tax_lines(self.sign, document_id, tax, tax_by_code)
        return JournalEntry.balanced(
            entry_id, on, f"{self.title} {document_id}", _debits_first(lines), document_id
        )


#: Dr receivables gross; per obligation Cr unbilled WIP up to its balance, the rest Cr
#: deferred revenue; Cr tax payable, once per tax code when the tax is broken down by code.
post_invoice_issue = BillingPosting(+1, "post an invoice", "Issue of invoice")

#: The reverse of what it credits: Cr receivables gross; Dr tax payable (per tax code when
#: broken down); per obligation Dr deferred revenue up to its balance, the rest Dr unbilled WIP.
post_credit_memo = BillingPosting(-1, "post a credit memo", "Credit memo")


#: The source document of a recognition entry, before its date.
RECOGNITION = "revenue-recognition:"


class RecognitionOutOfOrderError(DomainError):
    """A revenue run for a period that ends before revenue was last recognised."""

    code = "revenue_run_out_of_order"


def check_recognition_order(through: date, journal: Iterable[JournalEntry]) -> None:
    """Recognition is cumulative to a period's end, so a run for a period that ends before the
    last recognition posted would reverse everything recognised since, dated in that period."""
    last = max(
        (e.posted_on for e in journal if e.source_document.startswith(RECOGNITION)), default=None
    )
    if last is not None and through < last:
        raise RecognitionOutOfOrderError(
            f"revenue is recognised through {last.isoformat()} already: a run through "
            f"{through.isoformat()} would reverse what was recognised since; run a period that "
            f"ends on {last.isoformat()} or later"
        )


def post_recognition(
    entry_id: str,
    on: date,
    revenue_by_obligation: Mapping[ObligationId, Money],
    balances: Mapping[ObligationId, ObligationBalance],
    lock: PeriodLock,
) -> JournalEntry:
    """Per obligation, revenue first releases deferred revenue up to its balance, the rest
    accrues unbilled WIP; Cr revenue. A downward catch-up (negative) reverses it."""
    lock.check(on, "post revenue recognition")
    lines: list[JournalLine] = []
    for oid in sorted(revenue_by_obligation):
        revenue = revenue_by_obligation[oid]
        before = _balance_of(balances, oid)
        after = before.after_recognition(revenue)
        memo = f"revenue for {oid}"
        lines += _contract_moves(before, after, memo)
        lines += _movement(Account.REVENUE, -revenue, oid, memo)
    source = f"{RECOGNITION}{on.isoformat()}"
    return JournalEntry.balanced(
        entry_id, on, f"Revenue recognition on {on.isoformat()}", _debits_first(lines), source
    )


def post_payment(
    entry_id: str, document_id: str, on: date, amount: Money, lock: PeriodLock
) -> JournalEntry:
    """Dr cash / Cr receivables for a payment received."""
    lock.check(on, "post a payment")
    memo = f"payment {document_id}"
    _not_negative(amount, memo)
    return _off_receivables(entry_id, document_id, on, Account.CASH, amount, memo)


def post_write_off(
    entry_id: str, document_id: str, on: date, amount: Money, lock: PeriodLock
) -> JournalEntry:
    """Dr write-off expense / Cr receivables for what is given up on a document."""
    lock.check(on, "post a write-off")
    memo = f"write-off of {document_id}"
    _not_negative(amount, f"the {memo}")
    return _off_receivables(entry_id, document_id, on, Account.WRITE_OFF_EXPENSE, amount, memo)


def _off_receivables(
    entry_id: str, document_id: str, on: date, debit: Account, amount: Money, memo: str
) -> JournalEntry:
    """Dr `debit` / Cr receivables for what settles or gives up a document's amount; the
    entry is narrated as its memo."""
    lines = [
        *_movement(debit, amount, None, memo),
        *_movement(Account.RECEIVABLES, -amount, None, memo),
    ]
    narration = memo[:1].upper() + memo[1:]
    return JournalEntry.balanced(entry_id, on, narration, lines, document_id)
