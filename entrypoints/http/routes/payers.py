"""Split billing over HTTP (ADR 0029): the payers a contract version names per obligation, in
bodies and in answers.

A version body may carry `payers`: for an obligation, the parties that pay it (the customer
and, e.g., a parent company or a grant), each with either a `percent` of every line or a
`fixed_amount` per billing period in the contract's currency. Without `payers` the customer
pays everything. Fixed amounts are taken first, in the order listed; the percentages of the
percentage payers sum to 100; ties of the minor-unit split go to the payer listed first.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import msgspec

from domain.contract import ContractVersion
from domain.errors import InvalidTermsError
from domain.ids import CustomerId, ObligationId
from domain.money import Currency
from domain.split import ObligationPayers, Payer
from entrypoints.http.problems import FieldError, Problem
from entrypoints.http.routes.common import DecimalString, Id, MoneyOut, money_out, to_money

MAX_PAYERS = 10

PAYERS_DOC = (
    "Split billing (optional): per obligation, the payers that share it. Each payer has "
    'either `percent` (of every line, e.g. "70" or "33.33") or `fixed_amount` (per billing '
    "period, in the contract's currency with its minor digits, taken before the percentages "
    "and never more than the obligation's lines of the period). The percentage payers' "
    "percentages sum to 100. Each payer is invoiced separately by the contract's legal entity "
    "and taxed by its own tax profile with that entity. Omit `payers` and the customer pays "
    "everything."
)


class PayerBody(msgspec.Struct, forbid_unknown_fields=True):
    """One payer of an obligation: exactly one of `percent` and `fixed_amount`."""

    payer_id: Id
    percent: DecimalString | None = None
    fixed_amount: DecimalString | None = None


class ObligationPayersBody(msgspec.Struct, forbid_unknown_fields=True):
    obligation_id: Id
    payers: Annotated[list[PayerBody], msgspec.Meta(min_length=1, max_length=MAX_PAYERS)]


class PayerOut(msgspec.Struct, omit_defaults=True):
    payer_id: str
    percent: str | None = None
    fixed_amount: MoneyOut | None = None


class ObligationPayersOut(msgspec.Struct):
    obligation_id: str
    payers: list[PayerOut]


def payers_from(
    declared: list[ObligationPayersBody], currency: str, obligations: tuple[Any, ...]
) -> tuple[ObligationPayers, ...]:
    """The declared payers as domain terms, or a 400 problem pointing at the first bad one
    (nothing is drafted)."""
    known = {o.obligation_id for o in obligations}
    chosen = []
    for n, item in enumerate(declared):
        where = f"/payers/{n}"
        if item.obligation_id not in known:
            detail = f"the version holds no obligation {item.obligation_id}"
            raise Problem(
                "validation-error", detail, errors=[FieldError(f"{where}/obligation_id", detail)]
            )
        payers = [_payer(p, currency, f"{where}/payers/{i}") for i, p in enumerate(item.payers)]
        try:
            chosen.append(
                ObligationPayers.of(ObligationId(item.obligation_id), payers, Currency.of(currency))
            )
        except InvalidTermsError as error:
            raise Problem(
                "validation-error", str(error), errors=[FieldError(f"{where}/payers", str(error))]
            ) from None
    return tuple(chosen)


def _payer(body: PayerBody, currency: str, where: str) -> Payer:
    if (body.percent is None) == (body.fixed_amount is None):
        detail = f"payer {body.payer_id} needs either a percent or a fixed_amount"
        raise Problem("validation-error", detail, errors=[FieldError(where, detail)])
    if body.percent is not None:
        return Payer.percentage(CustomerId(body.payer_id), Decimal(body.percent))
    assert body.fixed_amount is not None
    amount = to_money(body.fixed_amount, currency, f"{where}/fixed_amount")
    return Payer.fixed(CustomerId(body.payer_id), amount)


def payers_out(version: ContractVersion) -> list[ObligationPayersOut]:
    """The payers a version names, as the API shows them."""
    return [
        ObligationPayersOut(
            declared.obligation_id,
            [
                PayerOut(
                    p.payer_id,
                    None if p.percent is None else str(p.percent),
                    None if p.fixed_amount is None else money_out(p.fixed_amount),
                )
                for p in declared.payers
            ],
        )
        for declared in version.payers
    ]


SPLIT_VERSION_EXAMPLE: dict[str, Any] = {
    "effective_from": "2026-01-01",
    "label": "SOW",
    "obligations": [
        {
            "model": "recurring",
            "obligation_id": "managed-service",
            "name": "Managed service",
            "amount_per_period": "12000.00",
            "service_start": "2026-01-01",
        }
    ],
    "payers": [
        {
            "obligation_id": "managed-service",
            "payers": [
                {"payer_id": "innovation-grant", "fixed_amount": "2000.00"},
                {"payer_id": "acme", "percent": "70"},
                {"payer_id": "acme-holding", "percent": "30"},
            ],
        }
    ],
}
