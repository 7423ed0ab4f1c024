"""Handlers of the journal's configuration: the chart of accounts per legal entity (ADR 0033)."""

from __future__ import annotations

from application.context import RequestContext
from application.handlers.common import audit
from application.journal import SetChartOfAccounts
from application.messagebus import Dependencies
from domain.chart_of_accounts import ChartOfAccounts


def _describe(chart: ChartOfAccounts | None) -> str | None:
    if chart is None:
        return None
    parts = [f"{role}={account}" for role, account in chart.accounts]
    parts += [f"revenue[{kind}]={account}" for kind, account in chart.revenue_by_obligation_type]
    parts += [f"tax_payable[{code}]={account}" for code, account in chart.tax_payable_by_tax_code]
    parts += [f"dimension[{name}]={value}" for name, value in chart.dimensions]
    return "; ".join(parts)


def set_chart_of_accounts(
    cmd: SetChartOfAccounts, ctx: RequestContext, deps: Dependencies
) -> ChartOfAccounts:
    """A legal entity's chart is replaced whole; the audit trail keeps the one before. Entries
    posted before keep the accounts they were posted with."""
    entity = cmd.chart.legal_entity_id
    with deps.uow(ctx) as uow:
        before = uow.journal.chart(entity)
        if before is None and deps.charts is not None:
            before = next((c for c in deps.charts.charts if c.legal_entity_id == entity), None)
        uow.journal.save_chart(cmd.chart)
        audit(
            uow,
            ctx,
            deps,
            f"chart-of-accounts:{entity}",
            "set_chart_of_accounts",
            _describe(before),
            _describe(cmd.chart),
        )
        uow.commit()
    return cmd.chart
