"""Charts of accounts as a JSON document (ADR 0033): the default mapping file read at start-up
and the body finance sends to change one legal entity's mapping.

    {"charts": [{"legal_entity_id": "HR-FR",
                 "accounts": {"receivables": "411000", ...every posting role...},
                 "revenue_by_obligation_type": {"time_and_materials": "706100"},
                 "tax_payable_by_tax_code": {"FR-VAT-20": "445710"},
                 "dimensions": {"region": "EMEA"}}]}

Anything wrong stops the reading with a message naming the chart and the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import domain.billing_models  # noqa: F401  (registers every billing model before the check)
from adapters.json_document import known_object, listed, read_document
from domain.chart_of_accounts import ChartOfAccounts, ChartsOfAccounts, InvalidChartOfAccountsError
from domain.obligation import registered_models

_CHART_FIELDS = frozenset(
    {
        "legal_entity_id",
        "accounts",
        "revenue_by_obligation_type",
        "tax_payable_by_tax_code",
        "dimensions",
    }
)


def _strings(where: str, value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
        raise InvalidChartOfAccountsError(f"{where}: an object of strings is expected")
    return {str(k): v for k, v in value.items()}


def chart_from_json(raw: Any, where: str = "chart of accounts") -> ChartOfAccounts:
    """One legal entity's mapping from its JSON object; unknown fields are refused."""
    raw = known_object(where, raw, _CHART_FIELDS, InvalidChartOfAccountsError)
    entity = raw.get("legal_entity_id")
    if not isinstance(entity, str):
        raise InvalidChartOfAccountsError(f"{where}: legal_entity_id is missing")
    return ChartOfAccounts.of(
        entity,
        _strings(f"{where}.accounts", raw.get("accounts")),
        _strings(f"{where}.revenue_by_obligation_type", raw.get("revenue_by_obligation_type")),
        _strings(f"{where}.tax_payable_by_tax_code", raw.get("tax_payable_by_tax_code")),
        _strings(f"{where}.dimensions", raw.get("dimensions")),
    )


def chart_to_json(chart: ChartOfAccounts) -> dict[str, Any]:
    """The JSON object `chart_from_json` reads back."""
    return {
        "legal_entity_id": chart.legal_entity_id,
        "accounts": dict(chart.accounts),
        "revenue_by_obligation_type": dict(chart.revenue_by_obligation_type),
        "tax_payable_by_tax_code": dict(chart.tax_payable_by_tax_code),
        "dimensions": dict(chart.dimensions),
    }


def charts_from_json(document: Any, where: str = "charts of accounts") -> ChartsOfAccounts:
    """Every legal entity's mapping from `{"charts": [...]}`."""
    charts = listed(document, "charts", where, "chart", InvalidChartOfAccountsError)
    return ChartsOfAccounts.of(chart_from_json(raw, at) for at, raw in charts)


def read_charts(path: Path) -> ChartsOfAccounts:
    """The mapping file read at start-up; a bad file stops start-up with what is wrong."""
    charts = charts_from_json(read_document(path, InvalidChartOfAccountsError), str(path))
    for chart in charts.charts:
        chart.check_billing_models(model.name for model in registered_models())
    return charts


#: The demo's mapping, shipped next to the code (entrypoints read it when nothing else is set).
DEFAULT_CHARTS = Path(__file__).resolve().parent / "charts_of_accounts.json"
