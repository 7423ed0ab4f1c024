"""The handler registry: one plain function per command type, each naming the dependencies it
uses (application/messagebus.py binds them once)."""

from __future__ import annotations

from application import commands as c
from application import inbox as intake
from application import intercompany as ic
from application import journal as gl
from application import reconciliation, relay
from application.handlers import (
    billing,
    customer_master,
    delivery,
    delivery_items,
    delivery_records,
    engagement,
    finance,
    inbox,
    integration,
    intercompany,
    journal,
    legal_entities,
    milestones,
    setup,
    write_off,
)
from application.messagebus import Dependencies, Handler, MessageBus

HANDLERS: dict[type, Handler] = {
    c.ProposeEngagement: setup.propose_engagement,
    c.RegisterContract: setup.register_contract,
    c.DraftContractVersion: setup.draft_contract_version,
    c.ApproveContractVersion: setup.approve_contract_version,
    c.CreateRateCard: setup.create_rate_card,
    c.PublishRateCardVersion: setup.publish_rate_card_version,
    c.ProposeRateCardVersion: setup.propose_rate_card_version,
    c.ProposeRateCardAmendment: setup.propose_rate_card_amendment,
    c.ApproveRateCardVersion: setup.approve_rate_card_version,
    c.SetUpEngagement: setup.set_up_engagement,
    **dict.fromkeys(engagement.MOVES, engagement.move_engagement),
    c.CloseEngagement: engagement.close_engagement,
    c.UpdateCustomerMaster: setup.update_customer_master,
    c.PushCustomerRecord: customer_master.push_customer_record,
    c.SeedCustomerRecords: customer_master.seed_customer_records,
    c.PutLegalEntity: legal_entities.put_legal_entity,
    c.SeedLegalEntities: legal_entities.seed_legal_entities,
    c.SetTaxRates: setup.set_tax_rates,
    c.RecordTimeEntries: delivery.record_time_entries,
    c.RecordExpenses: delivery.record_expenses,
    c.RecordDeliveryRecords: delivery_records.record_delivery_records,
    c.ListDeliveryRecords: delivery_records.list_delivery_records,
    **dict.fromkeys(delivery_items.DECISIONS, delivery_items.decide_item),
    c.WriteOffItem: delivery_items.write_off_item,
    c.CorrectTimeEntry: delivery_items.correct_time_entry,
    c.CompleteMilestone: milestones.complete_milestone,
    c.AcceptMilestone: milestones.accept_milestone,
    c.RejectMilestone: milestones.reject_milestone,
    c.AcceptDueMilestones: milestones.accept_due_milestones,
    c.RunBilling: billing.run_billing_command,
    c.ApproveInvoice: billing.approve_invoice,
    c.DiscardInvoice: billing.discard_invoice,
    c.IssueInvoice: billing.issue_invoice,
    c.HandOverInvoice: billing.hand_over_invoice,
    c.ConfirmInvoicePosted: billing.confirm_invoice_posted,
    c.RecordPayment: finance.record_payment,
    c.OpenDispute: finance.open_dispute,
    c.WriteOffInvoice: write_off.write_off_invoice,
    c.ResolveDispute: finance.resolve_dispute,
    c.DraftCreditMemo: finance.draft_credit_memo,
    c.ApproveCreditMemo: finance.approve_credit_memo,
    c.DiscardCreditMemo: finance.discard_credit_memo,
    c.IssueCreditMemo: finance.issue_credit_memo,
    c.RecogniseRevenue: finance.recognise_revenue,
    c.ClosePeriod: finance.close_period,
    c.ReopenPeriod: finance.reopen_period,
    c.Reconcile: reconciliation.reconcile,
    relay.ReplayOutboxEvent: relay.replay_dead_event,
    ic.SetEmploymentHistory: intercompany.set_employment_history,
    ic.SetTransferPricing: intercompany.set_transfer_pricing,
    ic.PostIntercompanyRecharges: intercompany.post_intercompany_recharges,
    gl.SetChartOfAccounts: journal.set_chart_of_accounts,
    c.ReplayException: integration.replay_exception,
    c.RetryDueExceptions: integration.retry_due_exceptions,
    c.ReceiveInboxMessage: intake.receive,
    c.ProcessInboxMessage: inbox.process_inbox_message,
    c.ProcessWaitingInboxMessages: inbox.process_waiting_inbox_messages,
}


def create_bus(deps: Dependencies) -> MessageBus:
    """The bus with every handler; replay and inbox handlers dispatch back through it."""
    return MessageBus(deps, HANDLERS)
