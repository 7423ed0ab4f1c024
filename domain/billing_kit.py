"""What a billing model is written with: the one surface a model's module imports (ADR 0009).

A billing model's module imports this module, `from domain import billing_kit as kit`, and
names what it builds and returns through it: `kit.SourceRef` and `kit.Allocation` for what a
line bills, `kit.ProposedLine.from_allocations` for the line, `kit.Exclusion` for what it
declines, `kit.ObligationBilling` for its answer to a run, and at the end of the module
`kit.register_billing_model(kit.BillingModel(...))`. Its own rule (terms, money, periods,
errors) it imports from where those live, as any module does.

The names are defined where they belong, beside the code that reads them: the billing
vocabulary and the ledger in `domain.billing`, the contexts and the registry in
`domain.obligation`, new delivery data in `domain.delivery_kinds`. This module only gathers
them, so that a model names the surface it extends and each model's preamble is one line.
"""

from __future__ import annotations

from domain.billing import Allocation as Allocation
from domain.billing import BilledLedger as BilledLedger
from domain.billing import Disposition as Disposition
from domain.billing import Exclusion as Exclusion
from domain.billing import LedgerEntry as LedgerEntry
from domain.billing import LineKind as LineKind
from domain.billing import ObligationBilling as ObligationBilling
from domain.billing import ObligationHistory as ObligationHistory
from domain.billing import ProposedLine as ProposedLine
from domain.billing import SourceKind as SourceKind
from domain.billing import SourceRef as SourceRef
from domain.billing import TermsInForce as TermsInForce
from domain.delivery_kinds import register_delivery_kind as register_delivery_kind
from domain.obligation import BillingContext as BillingContext
from domain.obligation import BillingModel as BillingModel
from domain.obligation import RevenueContext as RevenueContext
from domain.obligation import no_contract_value as no_contract_value
from domain.obligation import register_billing_model as register_billing_model
