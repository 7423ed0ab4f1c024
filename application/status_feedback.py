"""Billing status told back to the systems that sold and run the work.

A payment, a dispute, its resolution, a credit memo and a write-off are told to the customer's
account in the CRM and to the project in the PSA, always both, with the same status. A
handler names `feedback` (bound by the message bus from the `crm` and `projects` of
`Dependencies`) instead of the two systems and the steps of telling them.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from application.ports import CrmFeedback, ProjectProvisioning
from domain.invoice import Invoice


@attrs.frozen
class StatusFeedback:
    """The CRM account and the PSA project of an invoice, told its billing status together."""

    crm: CrmFeedback
    projects: ProjectProvisioning

    def tell(self, key: str, invoice: Invoice, kind: str, **data: str) -> None:
        """The status, with the invoice's number, goes to both under one idempotency key."""
        self.send(key, key, invoice, kind, {"invoice": invoice.number or "", **data})

    def send(
        self,
        crm_key: str,
        psa_key: str,
        invoice: Invoice,
        kind: str,
        status: Mapping[str, str],
    ) -> None:
        """The status as given, each system under its own idempotency key."""
        self.crm.notify(crm_key, invoice.customer_id, kind, status)
        self.projects.report(psa_key, invoice.contract_id, kind, status)
