"""The lifecycle diagrams in docs/lifecycles.md are the tables' own `mermaid()` output.

To document another lifecycle, add its heading and diagram to the doc and a row here.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any

import pytest

from domain.accounting_period import ACCOUNTING_PERIOD_LIFECYCLE
from domain.contract import CONTRACT_VERSION_LIFECYCLE
from domain.credit_memo import CREDIT_MEMO_LIFECYCLE
from domain.engagement import ENGAGEMENT_LIFECYCLE
from domain.invoice import INVOICE_LIFECYCLE
from domain.lifecycle import LifecycleTable
from domain.milestone import MILESTONE_LIFECYCLE
from domain.time_entry import ITEM_LIFECYCLE

DOC = Path(__file__).resolve().parents[2] / "docs" / "lifecycles.md"

DOCUMENTED: list[tuple[str, LifecycleTable[Any, Any]]] = [
    ("Engagement", ENGAGEMENT_LIFECYCLE),
    ("Milestone", MILESTONE_LIFECYCLE),
    ("Accounting period", ACCOUNTING_PERIOD_LIFECYCLE),
    ("Invoice", INVOICE_LIFECYCLE),
    ("Credit memo", CREDIT_MEMO_LIFECYCLE),
    ("Time entry and expense", ITEM_LIFECYCLE),
    ("Contract version", CONTRACT_VERSION_LIFECYCLE),
]


def section(heading: str) -> str:
    """The text under `## heading`, up to the next second-level heading."""
    text = DOC.read_text(encoding="utf-8")
    marker = f"\n## {heading}\n"
    assert marker in text, f"docs/lifecycles.md has no '## {heading}' section"
    body = text.split(marker, 1)[1]
    return body.split("\n## ", 1)[0]


@pytest.mark.parametrize(("heading", "table"), DOCUMENTED, ids=[h for h, _ in DOCUMENTED])
def test_each_lifecycle_diagram_in_the_docs_is_drawn_from_its_table(
    heading: str, table: LifecycleTable[Enum, Enum]
) -> None:
    fenced = f"```mermaid\n{table.mermaid()}\n```"
    assert fenced in section(heading), (
        f"the {table.name} diagram in docs/lifecycles.md is stale: "
        f"replace it with the output of {table.name} table.mermaid()"
    )


@pytest.mark.parametrize(("heading", "table"), DOCUMENTED, ids=[h for h, _ in DOCUMENTED])
def test_each_lifecycle_section_names_every_state(
    heading: str, table: LifecycleTable[Enum, Enum]
) -> None:
    prose = section(heading).split("```mermaid", 1)[0]
    missing = [s.value for s in table.states if f"`{s.value}`" not in prose]
    assert not missing, f"the {heading} prose never mentions {missing}"
