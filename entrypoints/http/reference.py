"""The generated parts of docs/http-api.md: the problem registry and the role matrix.

    python -m entrypoints.http.reference --write   # refresh the doc after changing either

A test fails when the document and the code disagree.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from entrypoints.http.problems import REGISTRY
from entrypoints.http.security import ROLE_PERMISSIONS, ROLES

DOC = Path(__file__).resolve().parents[2] / "docs" / "http-api.md"
_BLOCK = re.compile(r"(<!-- (?P<name>[a-z-]+):begin -->\n).*?(<!-- (?P=name):end -->)", re.S)


def problem_table() -> str:
    rows = ["| Type | Status | Title |", "|---|---|---|"]
    rows += [f"| `{t.uri}` | {t.status} | {t.title} |" for t in REGISTRY.values()]
    return "\n".join(rows) + "\n"


def role_table() -> str:
    permissions = sorted(set().union(*ROLE_PERMISSIONS.values()))
    rows = [
        "| Permission | " + " | ".join(f"`{r}`" for r in ROLES) + " |",
        "|---|" + "---|" * len(ROLES),
    ]
    for permission in permissions:
        marks = " | ".join("yes" if permission in ROLE_PERMISSIONS[r] else "" for r in ROLES)
        rows.append(f"| `{permission}` | {marks} |")
    return "\n".join(rows) + "\n"


GENERATED = {"problems": problem_table, "roles": role_table}


def render(text: str) -> str:
    """The document with every generated block refreshed."""
    return _BLOCK.sub(lambda m: m.group(1) + GENERATED[m.group("name")]() + m.group(3), text)


def main() -> None:
    current = DOC.read_text(encoding="utf-8")
    fresh = render(current)
    if "--write" in sys.argv:
        DOC.write_text(fresh, encoding="utf-8")
    elif fresh != current:
        sys.exit("docs/http-api.md is out of date: python -m entrypoints.http.reference --write")


if __name__ == "__main__":
    main()
