"""Typed identifiers. Ids are created outside the domain (an `IdGenerator` port) and passed in."""

from __future__ import annotations

from typing import NewType

CustomerId = NewType("CustomerId", str)
LegalEntityId = NewType("LegalEntityId", str)
ContractId = NewType("ContractId", str)
ObligationId = NewType("ObligationId", str)
RateCardId = NewType("RateCardId", str)
EngagementId = NewType("EngagementId", str)
ResourceId = NewType("ResourceId", str)
TimeEntryId = NewType("TimeEntryId", str)
ExpenseId = NewType("ExpenseId", str)
MilestoneId = NewType("MilestoneId", str)
InstallmentId = NewType("InstallmentId", str)
InvoiceId = NewType("InvoiceId", str)
CreditMemoId = NewType("CreditMemoId", str)
PaymentId = NewType("PaymentId", str)
DisputeId = NewType("DisputeId", str)
UserId = NewType("UserId", str)
Role = NewType("Role", str)
TaskId = NewType("TaskId", str)
