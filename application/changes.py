"""Changes the application states itself, because no aggregate records them as events.

Master data, charts of accounts, rate-card versions, the exception queue and the inbox are
kept as records, not aggregates with a lifecycle that appends events. A handler that changes
one tells its unit of work (`uow.record(change)`); at commit the unit of work writes each
change's audit record after those of the aggregates' events (ADR 0044). Each change is a
frozen fact in the past tense that says its own record.
"""

from __future__ import annotations

import attrs

from application.audit_trail import AuditEntry, state_text


@attrs.frozen
class ContractVersionDrafted:
    contract_id: str
    version: int

    def audit_entry(self) -> AuditEntry:
        return AuditEntry(f"contract:{self.contract_id}", "draft_version", None, "draft")


@attrs.frozen
class RateCardVersionPublished:
    rate_card_id: str
    version: int

    def audit_entry(self) -> AuditEntry:
        return AuditEntry(f"rate_card:{self.rate_card_id}", "publish", None, f"v{self.version}")


@attrs.frozen
class RateCardVersionProposed:
    rate_card_id: str
    version: int

    def audit_entry(self) -> AuditEntry:
        after = f"v{self.version}:proposed"
        return AuditEntry(f"rate_card:{self.rate_card_id}", "propose", None, after)


@attrs.frozen
class RateCardVersionApproved:
    rate_card_id: str
    version: int

    def audit_entry(self) -> AuditEntry:
        subject, number = f"rate_card:{self.rate_card_id}", self.version
        return AuditEntry(subject, "approve", f"v{number}:proposed", f"v{number}")


@attrs.frozen
class TaxProfileUpdated:
    customer_id: str
    legal_entity_id: str
    tax_code_before: str | None
    tax_code: str

    def audit_entry(self) -> AuditEntry:
        subject = f"customer:{self.customer_id}:{self.legal_entity_id}"
        return AuditEntry(subject, "update_tax_profile", self.tax_code_before, self.tax_code)


@attrs.frozen
class VersionKept:
    """A master-data record kept as its next version (`previous` 0: the first one)."""

    subject: str
    action: str
    previous: int
    version: int
    summary: str = ""

    def audit_entry(self) -> AuditEntry:
        before = None if self.previous == 0 else f"v{self.previous}"
        return AuditEntry(self.subject, self.action, before, f"v{self.version}", self.summary)


@attrs.frozen
class SettingReplaced:
    """A setting replaced whole (a chart of accounts, an employment history, the transfer
    pricing): the trail keeps the one before and the new one, described."""

    subject: str
    action: str
    before: str | None
    after: str | None

    def audit_entry(self) -> AuditEntry:
        return AuditEntry(self.subject, self.action, self.before, self.after)


@attrs.frozen
class RunCompleted:
    """A run over many documents (revenue recognition, intercompany recharges), one record."""

    subject: str
    action: str
    after: str | None
    reason: str = ""

    def audit_entry(self) -> AuditEntry:
        return AuditEntry(self.subject, self.action, None, self.after, self.reason)


@attrs.frozen
class RecordMoved:
    """A record of the application (a credit memo draft, an exception, an inbox message)
    moved from one state to another (states given as enums, strings or None)."""

    subject: str
    action: str
    before: str | None = attrs.field(converter=state_text)
    after: str | None = attrs.field(converter=state_text)
    reason: str = ""

    def audit_entry(self) -> AuditEntry:
        return AuditEntry(self.subject, self.action, self.before, self.after, self.reason)
