"""Handlers of the journal's configuration: the chart of accounts per legal entity (ADR 0033)."""

from __future__ import annotations

import domain.billing_models  # noqa: F401  (registers every billing model before the check)
from application.changes import SettingReplaced
from application.context import RequestContext
from application.journal import SetChartOfAccounts
from application.messagebus import UnitOfWorkFactory
from domain.chart_of_accounts import ChartOfAccounts, ChartsOfAccounts
from domain.obligation import registered_models


def _describe(chart: ChartOfAccounts | None) -> str | None:
    if chart is None:
        return None
    parts = [f"{role}={account}" for role, account in chart.accounts]
    parts += [f"revenue[{kind}]={account}" for kind, account in chart.revenue_by_obligation_type]
    parts += [f"tax_payable[{code}]={account}" for code, account in chart.tax_payable_by_tax_code]
    parts += [f"dimension[{name}]={value}" for name, value in chart.dimensions]
    return "; ".join(parts)


def set_chart_of_accounts(
    cmd: SetChartOfAccounts,
    ctx: RequestContext,
    *,
    unit_of_work: UnitOfWorkFactory,
    charts: ChartsOfAccounts | None,
) -> ChartOfAccounts:
    """A legal entity's chart is replaced whole; the audit trail keeps the one before. Entries
    posted before keep the accounts they were posted with."""
    entity = cmd.chart.legal_entity_id
    cmd.chart.check_billing_models(model.name for model in registered_models())
    with unit_of_work(ctx) as uow:
        before = uow.journal.chart(entity) or _from_start_up(charts, entity)
        uow.journal.save_chart(cmd.chart)
        subject, after = f"chart-of-accounts:{entity}", _describe(cmd.chart)
        uow.record(SettingReplaced(subject, "set_chart_of_accounts", _describe(before), after))
        uow.commit()
    return cmd.chart


def _from_start_up(charts: ChartsOfAccounts | None, entity: str) -> ChartOfAccounts | None:
    """The chart the deployment read at start-up, until finance sets one."""
    if charts is None:
        return None
    return next((c for c in charts.charts if c.legal_entity_id == entity), None)
