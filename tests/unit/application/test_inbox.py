"""Inbound webhooks end to end through the intake: verified, stored raw, processed; duplicates
change nothing; failures wait on the exception queue and a replay reprocesses the stored
message. Collected again in tests/integration to run on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

from adapters.webhooks.mappings import MAPPINGS, JsonWebhookTranslator
from adapters.webhooks.signatures import (
    NoMatchingSignatureError,
    OutsideToleranceError,
    UnknownSourceError,
    WebhookSecret,
    WebhookSecrets,
    signature_headers,
)
from application import commands as c
from application.audit import verify_chain
from application.context import RequestContext
from application.errors import MalformedJsonError, PayloadError
from application.handlers import create_bus, inbox
from application.inbox import MessageIdReusedError, MessageInProgressError, ReceiptStatus
from application.messagebus import MessageBus
from application.records import (
    ExceptionKind,
    ExceptionState,
    InboxMessage,
    InboxState,
    IntegrationException,
)
from domain import ids
from domain.engagement import EngagementState
from domain.invoice import InvoiceState
from domain.milestone import MilestoneState
from domain.money import Currency
from domain.period import Period
from domain.ratecard import RateCardVersion
from domain.tax import TaxRate, TaxRateTable
from entrypoints.http.webhook_intake import IntakeOutcome, WebhookIntake
from tests.unit.application.conftest import CUSTOMER, ENTITY, App, complete_record

SECRETS = WebhookSecrets(
    {
        source: (WebhookSecret(f"{source} test secret".encode().ljust(32, b".")),)
        for source in MAPPINGS
    }
)
DOC = Path(__file__).resolve().parents[3] / "docs" / "webhooks.md"


def _examples() -> dict[str, dict[str, Any]]:
    text = DOC.read_text(encoding="utf-8")
    found = {}
    for block in text.split("<!-- example: ")[1:]:
        marker, rest = block.split(" -->", 1)
        found[marker.split()[1]] = json.loads(rest.split("```json\n", 1)[1].split("```", 1)[0])
    return found


EXAMPLES = _examples()


def example(event_type: str) -> dict[str, Any]:
    """The documented example payload of an event."""
    return copy.deepcopy(EXAMPLES[event_type])


def deliver(
    app: App,
    source: str,
    body: dict[str, Any] | bytes,
    message_id: str,
    *,
    bus: MessageBus | None = None,
    headers: dict[str, str] | None = None,
) -> IntakeOutcome:
    """Sign the body as the source does, now on the app's clock, and hand it to the intake."""
    raw = body if isinstance(body, bytes) else json.dumps(body, indent=1).encode()
    signed = signature_headers(SECRETS.for_source(source), message_id, app.clock.now(), raw)
    intake = WebhookIntake(bus or app.bus, SECRETS, app.clock)
    ctx = RequestContext("anonymous", f"corr-{message_id}")
    return intake.receive(source, {**signed, **(headers or {})}, raw, ctx)


def stored(app: App, source: str, message_id: str) -> InboxMessage | None:
    with app.bus.deps.uow(RequestContext("test", "read"), read_only=True) as uow:
        return uow.inbox.find(source, message_id)


def claimed(app: App, source: str, message_id: str) -> bool:
    """Whether a processor holds the message's claim."""
    with app.bus.deps.uow(RequestContext("test", "read"), read_only=True) as uow:
        return uow.idempotency.find(f"webhook:{source}", message_id) is not None


def observable(app: App) -> tuple[object, ...]:
    """Everything a second effect would change."""
    data = app.data
    return (
        app.store.commits,
        [(r.subject, r.action, r.after) for r in data.audit],
        [e.event_id for e in data.outbox],
        sorted((x.exception_id, x.state, x.attempts) for x in data.exceptions.values()),
        sorted((k, e.state, e.hours) for k, e in data.time_entries.items()),
        sorted((k, e.state) for k, e in data.aggregates["engagement"].items()),
        sorted((k, len(x.versions)) for k, x in data.aggregates["contract"].items()),
    )


def rate_card_and_tax(app: App) -> None:
    """What Throughline owns itself before the webhooks arrive: a rate card and tax rates."""
    app.do(c.SetTaxRates(TaxRateTable((TaxRate("VAT20", date(2020, 1, 1), Decimal("0.20")),))))
    app.do(c.CreateRateCard(ids.RateCardId("RC-UK"), "UK rates", "EUR"))
    app.do(
        c.PublishRateCardVersion(
            ids.RateCardId("RC-UK"),
            RateCardVersion(
                1, date(2026, 1, 1), Currency.of("EUR"), {ids.Role("consultant"): Decimal("100")}
            ),
        )
    )


def won_and_signed(app: App) -> None:
    rate_card_and_tax(app)
    assert deliver(app, "crm", example("opportunity.closed_won"), "crm-1").status.value == (
        "processed"
    )
    assert deliver(app, "clm", example("contract.approved"), "clm-1").status.value == "processed"


def engagement(app: App) -> Any:
    return app.data.aggregates["engagement"]["OPP-4711"]


# The happy path ---------------------------------------------------------------------------


def test_a_signed_message_is_stored_raw_then_processed_as_the_source(app: App) -> None:
    body = json.dumps(example("opportunity.closed_won"), indent=1)
    outcome = deliver(app, "crm", body.encode(), "msg-1")
    assert (outcome.status, outcome.http_status, outcome.exception_id) == (
        ReceiptStatus.PROCESSED,
        200,
        None,
    )
    assert engagement(app).state is EngagementState.PROPOSED
    message = stored(app, "crm", "msg-1")
    assert message is not None
    assert (message.body, message.event_type, message.correlation_id) == (
        body,
        "opportunity.closed_won",
        "corr-msg-1",
    )
    assert (message.state, message.attempts, message.steps_done) == (InboxState.PROCESSED, 1, 1)
    trail = [(r.subject, r.action, r.actor, r.correlation_id) for r in app.data.audit]
    assert trail == [
        ("inbox:crm:msg-1", "receive", "webhook:crm", "corr-msg-1"),
        ("engagement:OPP-4711", "propose", "webhook:crm", "corr-msg-1"),
        ("inbox:crm:msg-1", "process", "webhook:crm", "corr-msg-1"),
    ]
    assert verify_chain(app.data.audit).intact


def test_the_documented_examples_tell_one_story_from_deal_to_dispute(app: App) -> None:
    won_and_signed(app)
    assert engagement(app).state is EngagementState.ACTIVE
    assert deliver(app, "psa", example("time.approved"), "psa-1").state == "processed"
    assert set(app.data.time_entries) == {"PSA-TE-1001", "PSA-TE-1002"}
    assert deliver(app, "psa", example("milestone.completed"), "psa-2").state == "processed"
    milestone = app.data.aggregates["milestone"]["ACME-M1"]
    assert milestone.state is MilestoneState.COMPLETED
    assert deliver(app, "erp", example("customer.updated"), "erp-1").state == "processed"

    result = app.do(c.RunBilling(Period.month(2026, 3), dry_run=False), actor="billing-clerk")
    (invoice_id,) = result.invoice_ids
    app.do(c.ApproveInvoice(invoice_id), actor="finance-lead")
    app.do(c.IssueInvoice(invoice_id, date(2026, 3, 31)), actor="finance-lead")
    invoice = app.data.aggregates["invoice"][invoice_id]
    assert (invoice_id, invoice.number, str(invoice.totals.gross.amount)) == (
        "INV-000001",
        "INV-2026-000001",
        "900.00",  # 7.5 h at 100.00, VAT 20 %; the non-billable 2 h are not billed
    )

    assert deliver(app, "erp", example("invoice.posted"), "erp-2").state == "processed"
    posted = [r for r in app.data.audit if r.action == "erp_posted"]
    assert [(r.subject, r.reason) for r in posted] == [
        ("invoice:INV-000001", "AR-2026-0042 on 2026-04-01")
    ]
    assert deliver(app, "erp", example("payment.received"), "erp-3").state == "processed"
    assert deliver(app, "billing", example("dispute.opened"), "billing-1").state == "processed"
    invoice = app.data.aggregates["invoice"][invoice_id]
    assert invoice.state is InvoiceState.DISPUTED
    assert str(invoice.amount_paid.amount) == "400.00"
    assert deliver(app, "clm", example("contract.amended"), "clm-2").state == "processed"
    assert len(app.data.aggregates["contract"]["C-ACME-01"].versions) == 2
    assert not app.data.exceptions
    assert verify_chain(app.data.audit).intact


# Duplicates -------------------------------------------------------------------------------


def test_a_duplicate_delivery_is_acknowledged_and_has_no_second_effect(app: App) -> None:
    won_and_signed(app)
    first = deliver(app, "psa", example("time.approved"), "psa-1")
    before = observable(app)
    app.clock.advance(minutes=30)  # the sender's retry: same id, fresh timestamp and signature
    again = deliver(app, "psa", example("time.approved"), "psa-1")
    assert (again.status, again.state, again.http_status) == (
        ReceiptStatus.DUPLICATE,
        "processed",
        200,
    )
    assert observable(app) == before
    assert first.status is ReceiptStatus.PROCESSED


def test_another_body_under_a_stored_message_id_is_refused_and_the_first_stands(
    app: App,
) -> None:
    won_and_signed(app)
    deliver(app, "psa", example("time.approved"), "psa-1")
    before = observable(app)
    changed = example("time.approved")
    changed["data"]["entries"][0]["hours"] = "9"
    with pytest.raises(MessageIdReusedError, match="new webhook-id"):
        deliver(app, "psa", changed, "psa-1")
    assert observable(app) == before
    message = stored(app, "psa", "psa-1")
    assert message is not None
    assert '"7.5"' in message.body


def test_the_same_content_spelt_otherwise_under_its_id_is_a_duplicate(app: App) -> None:
    won_and_signed(app)
    deliver(app, "psa", example("time.approved"), "psa-1")
    body = example("time.approved")
    reordered = dict(reversed(list(body.items())))
    assert deliver(app, "psa", reordered, "psa-1").status is ReceiptStatus.DUPLICATE


def test_a_duplicate_of_a_failed_message_reports_its_exception_and_queues_nothing_new(
    app: App,
) -> None:
    failed = deliver(app, "psa", example("milestone.completed"), "psa-9")
    before = observable(app)
    again = deliver(app, "psa", example("milestone.completed"), "psa-9")
    assert (again.status, again.state, again.exception_id, again.http_status) == (
        ReceiptStatus.DUPLICATE,
        "failed",
        failed.exception_id,
        202,
    )
    assert observable(app) == before


# Refused before storage -------------------------------------------------------------------


def _nothing_stored(app: App, source: str, message_id: str, commits: int) -> None:
    assert stored(app, source, message_id) is None
    assert app.store.commits == commits
    assert app.data.audit == []


def test_a_bad_signature_is_refused_before_anything_is_stored(app: App) -> None:
    commits = app.store.commits
    forged = {"webhook-signature": "v1," + "A" * 44}
    with pytest.raises(NoMatchingSignatureError):
        deliver(app, "crm", example("opportunity.closed_won"), "m1", headers=forged)
    _nothing_stored(app, "crm", "m1", commits)


def test_a_delivery_signed_too_long_ago_is_refused(app: App) -> None:
    raw = json.dumps(example("opportunity.closed_won")).encode()
    signed_at = app.clock.now() - timedelta(minutes=6)
    headers = signature_headers(SECRETS.for_source("crm"), "m1", signed_at, raw)
    intake = WebhookIntake(app.bus, SECRETS, app.clock)
    with pytest.raises(OutsideToleranceError):
        intake.receive("crm", headers, raw, RequestContext("anonymous", "c"))
    _nothing_stored(app, "crm", "m1", app.store.commits)


def test_an_unknown_source_is_refused(app: App) -> None:
    intake = WebhookIntake(app.bus, WebhookSecrets.of({}), app.clock)
    with pytest.raises(UnknownSourceError):
        intake.receive("crm", {}, b"{}", RequestContext("anonymous", "c"))
    only_crm = WebhookSecrets({"crm": SECRETS.for_source("crm"), "hr": SECRETS.for_source("crm")})
    intake = WebhookIntake(app.bus, only_crm, app.clock)
    assert intake.sources == {"crm"}  # a secret without a mapping receives nothing either
    with pytest.raises(UnknownSourceError):
        intake.receive("hr", {}, b"{}", RequestContext("anonymous", "c"))


@pytest.mark.parametrize(
    ("raw", "error", "problems"),
    [
        (b"{not json", MalformedJsonError, None),
        (b'{"type": "a.b", "type": "c.d", "data": {}}', MalformedJsonError, None),
        ('{"type": "opportunity.closed_won"}'.encode("utf-16"), MalformedJsonError, None),
        (b"[]", PayloadError, [("", "the body must be a JSON object with 'type' and 'data'")]),
        (
            b'{"type": "Closed Won", "data": [], "id": 4}',
            PayloadError,
            [
                ("/type", "'Closed Won' is not an event type like 'time.approved'"),
                ("/data", "expected an object"),
                ("/id", "unknown field"),
            ],
        ),
        (
            b'{"data": {}, "timestamp": "2026-03-01T09:00:00"}',
            PayloadError,
            [("/type", "required"), ("/timestamp", "'2026-03-01T09:00:00' has no UTC offset")],
        ),
    ],
)
def test_a_body_that_is_not_an_envelope_is_refused_before_storage(
    app: App, raw: bytes, error: type[PayloadError], problems: list[tuple[str, str]] | None
) -> None:
    commits = app.store.commits
    with pytest.raises(error) as refused:
        deliver(app, "crm", raw, "m1")
    assert type(refused.value) is error
    if problems is not None:
        assert [(p, d.split(" (add")[0]) for p, d in refused.value.problems] == problems
    _nothing_stored(app, "crm", "m1", commits)


# Stored, then failed onto the exception queue ---------------------------------------------


def queued(app: App, outcome: Any) -> IntegrationException:
    """The exception a failed message was queued as; the sender was answered 202 all the same."""
    assert (outcome.status, outcome.state, outcome.http_status) == (
        ReceiptStatus.FAILED,
        "failed",
        202,
    )
    assert outcome.exception_id is not None
    return app.data.exceptions[outcome.exception_id]


def test_data_that_does_not_map_is_kept_and_queued_with_every_pointer(app: App) -> None:
    body = example("time.approved")
    body["data"]["entries"][0]["hours"] = 7.5
    body["data"]["entries"][1]["overtime"] = True
    outcome = deliver(app, "psa", body, "psa-1")
    item = queued(app, outcome)
    assert (item.kind, item.reason_code, item.workflow, item.subject) == (
        ExceptionKind.VALIDATION,
        "invalid_payload",
        "inbox",
        "inbox:psa:psa-1",
    )
    assert "/data/entries/0/hours" in item.detail
    assert "/data/entries/1/overtime: unknown field" in item.detail
    assert item.replay == {
        "command": "ProcessInboxMessage",
        "args": {"source": "psa", "message_id": "psa-1"},
    }
    message = stored(app, "psa", "psa-1")
    assert message is not None
    assert (message.state, message.exception_id) == (InboxState.FAILED, outcome.exception_id)
    assert app.data.time_entries == {}


def test_an_event_another_system_owns_is_kept_and_queued_naming_the_owner(app: App) -> None:
    outcome = deliver(app, "crm", example("contract.approved"), "crm-7")
    assert outcome.exception_id is not None
    item = app.data.exceptions[outcome.exception_id]
    assert (item.kind, item.reason_code) == (ExceptionKind.VALIDATION, "unknown_event_type")
    assert "comes from the clm" in item.detail
    assert app.data.aggregates["contract"] == {}


def test_a_message_that_arrives_before_what_it_refers_to_waits_and_a_replay_heals_it(
    app: App,
) -> None:
    early = deliver(app, "psa", example("milestone.completed"), "psa-1")
    assert early.exception_id is not None
    item = app.data.exceptions[early.exception_id]
    assert (item.kind, item.reason_code) == (ExceptionKind.MASTER_DATA, "unknown_reference")
    assert item.state is ExceptionState.OPEN  # waits for a person; no blind retries

    won_and_signed(app)  # the contract arrives: its milestones are planned
    app.clock.advance(days=2)  # long past the signature's window: the replay does not care
    assert app.do(c.ReplayException(early.exception_id), actor="integration-desk") is True

    milestone = app.data.aggregates["milestone"]["ACME-M1"]
    assert (milestone.state, milestone.completed_on) == (
        MilestoneState.COMPLETED,
        date(2026, 3, 20),
    )
    message = stored(app, "psa", "psa-1")
    assert message is not None
    assert (message.state, message.attempts) == (InboxState.PROCESSED, 2)
    assert app.data.exceptions[early.exception_id].state is ExceptionState.RESOLVED
    replay_trail = [
        (r.action, r.actor) for r in app.data.audit if r.subject == f"exception:{item.exception_id}"
    ]
    assert replay_trail == [
        ("raised", "webhook:psa"),
        ("replay", "integration-desk"),
        ("replayed", "integration-desk"),
    ]


def test_time_refused_during_a_blocked_setup_is_recorded_after_the_fix_and_replays(
    app: App,
) -> None:
    app.master.records[(CUSTOMER, ENTITY)] = complete_record(tax_code=None)
    won_and_signed(app)
    assert engagement(app).state is EngagementState.SETUP_BLOCKED
    (setup_exception,) = app.data.exceptions

    outcome = deliver(app, "psa", example("time.approved"), "psa-1")
    assert outcome.exception_id is not None
    item = app.data.exceptions[outcome.exception_id]
    assert (item.kind, item.reason_code) == (ExceptionKind.VALIDATION, "items_rejected")
    assert item.detail.startswith("2 refused, 0 accepted, 0 already recorded: ")
    assert "PSA-TE-1001: engagement_not_accepting_time" in item.detail
    assert "PSA-TE-1002: engagement_not_accepting_time" in item.detail
    assert app.data.time_entries == {}

    app.master.records[(CUSTOMER, ENTITY)] = complete_record()  # finance fixes the ERP
    assert app.do(c.ReplayException(setup_exception), actor="finance") is True
    assert engagement(app).state is EngagementState.ACTIVE
    assert app.do(c.ReplayException(outcome.exception_id), actor="finance") is True
    assert set(app.data.time_entries) == {"PSA-TE-1001", "PSA-TE-1002"}
    assert all(x.state is ExceptionState.RESOLVED for x in app.data.exceptions.values())


def test_a_replay_resumes_after_the_last_command_that_committed(app: App) -> None:
    def won_with_kickoff(data: Any) -> list[object]:
        """A made-up event of two commands: the second fails until the contract arrives."""
        data.finish()
        return [
            c.ProposeEngagement(
                ids.EngagementId("OPP-4711"), ids.CustomerId("acme"), ids.ContractId("C-ACME-01")
            ),
            c.CompleteMilestone(ids.MilestoneId("ACME-M1"), "kick-off held", date(2026, 3, 2)),
        ]

    mappings = {**MAPPINGS, "crm": {"deal.won_with_kickoff": won_with_kickoff}}
    bus = create_bus(attrs.evolve(app.bus.deps, webhooks=JsonWebhookTranslator(mappings)))
    rate_card_and_tax(app)
    outcome = deliver(app, "crm", {"type": "deal.won_with_kickoff", "data": {}}, "crm-1", bus=bus)
    assert outcome.status is ReceiptStatus.FAILED
    message = stored(app, "crm", "crm-1")
    assert message is not None
    assert message.steps_done == 1  # the engagement was proposed and stays so
    assert deliver(app, "clm", example("contract.approved"), "clm-1", bus=bus).state == "processed"

    assert bus.handle(c.ReplayException(str(outcome.exception_id)), app.as_("desk")) is True
    assert app.data.aggregates["milestone"]["ACME-M1"].state is MilestoneState.COMPLETED
    proposals = [r for r in app.data.audit if r.action == "propose"]
    assert len(proposals) == 1  # the first command did not run again


class ProcessDied(BaseException):
    """The process ends mid-way (killed, out of memory): no `except Exception` runs."""


def crash_once_after_the_effect(app: App) -> None:
    """The next message's first command commits, then its process dies."""
    crashes = [ProcessDied("the process died after the batch committed")]

    def crashing(command: object, ctx: RequestContext) -> Any:
        result = app.bus.handle(command, ctx)
        if crashes:
            raise crashes.pop()
        return result

    deps = app.bus.deps
    process: Callable[..., Any] = inbox.process_inbox_message
    app.bus.register(
        c.ProcessInboxMessage,
        lambda cmd, ctx, *, unit_of_work: process(
            cmd,
            ctx,
            unit_of_work=unit_of_work,
            clock=deps.clock,
            ids=deps.ids,
            webhooks=deps.webhooks,
            dispatch=crashing,
        ),
    )


def test_a_crash_after_the_effect_is_healed_by_the_waiting_job_without_a_second_effect(
    app: App,
) -> None:
    won_and_signed(app)
    crash_once_after_the_effect(app)
    with pytest.raises(ProcessDied):
        deliver(app, "psa", example("time.approved"), "psa-1")  # the sender sees a 500
    message = stored(app, "psa", "psa-1")
    assert message is not None
    assert (message.state, message.steps_done) == (InboxState.RECEIVED, 0)
    recorded = observable(app)
    with pytest.raises(MessageInProgressError):  # never acknowledged while unfinished
        deliver(app, "psa", example("time.approved"), "psa-1")
    assert observable(app) == recorded

    app.clock.advance(minutes=10)
    job = c.ProcessWaitingInboxMessages(received_before=app.clock.now() - timedelta(minutes=5))
    assert app.do(job, actor="inbox-job") == ["inbox:psa:psa-1"]
    message = stored(app, "psa", "psa-1")
    assert message is not None
    assert message.state is InboxState.PROCESSED
    assert set(app.data.time_entries) == {"PSA-TE-1001", "PSA-TE-1002"}
    ingests = [r for r in app.data.audit if (r.subject, r.action) == ("time_entries", "ingest")]
    assert len(ingests) == 1  # the second run found both entries recorded: no second effect
    assert app.do(job, actor="inbox-job") == []
    assert not claimed(app, "psa", "psa-1")  # the claim went with the outcome


def test_an_erp_posting_that_does_not_match_the_issued_invoice_is_a_conflict(app: App) -> None:
    won_and_signed(app)
    deliver(app, "psa", example("time.approved"), "psa-1")
    (invoice_id,) = app.do(c.RunBilling(Period.month(2026, 3), dry_run=False)).invoice_ids
    posted = example("invoice.posted")
    outcome = deliver(app, "erp", posted, "erp-1")  # still a draft: not issued
    assert outcome.exception_id is not None
    item = app.data.exceptions[outcome.exception_id]
    assert (item.kind, item.reason_code) == (ExceptionKind.CONFLICT, "posting_mismatch")
    app.do(c.ApproveInvoice(invoice_id), actor="finance-lead")
    app.do(c.IssueInvoice(invoice_id, date(2026, 3, 31)), actor="finance-lead")
    posted["data"]["gross"] = "899.00"
    outcome = deliver(app, "erp", posted, "erp-2")
    assert outcome.exception_id is not None
    assert (
        "issued as INV-2026-000001 for 900.00 EUR"
        in app.data.exceptions[outcome.exception_id].detail
    )


def test_an_erp_posting_resolves_an_open_hand_over_failure(app: App) -> None:
    won_and_signed(app)
    deliver(app, "psa", example("time.approved"), "psa-1")
    (invoice_id,) = app.do(c.RunBilling(Period.month(2026, 3), dry_run=False)).invoice_ids
    app.do(c.ApproveInvoice(invoice_id), actor="finance-lead")
    app.handover.available = False  # the hand-over call times out, though the ERP got it
    app.do(c.IssueInvoice(invoice_id, date(2026, 3, 31)), actor="finance-lead")
    (handover,) = [x for x in app.data.exceptions.values() if x.workflow == "invoice_handover"]
    assert handover.state is ExceptionState.RETRY_SCHEDULED
    assert deliver(app, "erp", example("invoice.posted"), "erp-1").state == "processed"
    assert app.data.exceptions[handover.exception_id].state is ExceptionState.RESOLVED
    assert app.do(c.RetryDueExceptions(), actor="retry-job") == []  # nothing left to retry


def test_failures_are_classified_by_who_can_fix_them() -> None:
    from application.errors import (
        ConflictError,
        DownstreamUnavailableError,
        ItemsRejectedError,
        MasterDataError,
        NotFoundError,
        UnknownEventTypeError,
    )
    from domain.errors import CurrencyMismatchError, IllegalTransitionError

    cases = {
        PayloadError([("/data", "x")]): (ExceptionKind.VALIDATION, "invalid_payload"),
        UnknownEventTypeError([("/type", "x")]): (ExceptionKind.VALIDATION, "unknown_event_type"),
        ItemsRejectedError("x"): (ExceptionKind.VALIDATION, "items_rejected"),
        MasterDataError("x"): (ExceptionKind.MASTER_DATA, "missing_master_data"),
        NotFoundError("x"): (ExceptionKind.MASTER_DATA, "unknown_reference"),
        DownstreamUnavailableError("x"): (
            ExceptionKind.DOWNSTREAM_UNAVAILABLE,
            "downstream_unavailable",
        ),
        ConflictError("x"): (ExceptionKind.CONFLICT, "conflict"),
        IllegalTransitionError("x"): (ExceptionKind.CONFLICT, "illegal_transition"),
        CurrencyMismatchError("x"): (ExceptionKind.VALIDATION, "currency_mismatch"),
    }
    for error, expected in cases.items():
        assert inbox.classify(error) == expected, error
