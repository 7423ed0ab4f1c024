"""The domain's allow-list, checked on the source: import-linter forbids named packages, this
test refuses anything that is not the standard library, attrs, transitions or the domain."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[2] / "domain"
ALLOWED = set(sys.stdlib_module_names) | {"attrs", "transitions", "domain", "__future__"}
CLOCK_OR_IDS = ("datetime.now", "datetime.utcnow", "date.today", "uuid.uuid4", "time.time")


def _imported_roots(tree: ast.AST) -> set[str]:
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_the_domain_imports_only_the_standard_library_attrs_and_transitions() -> None:
    offenders = {}
    for path in sorted(DOMAIN.glob("*.py")):
        roots = _imported_roots(ast.parse(path.read_text(), str(path)))
        if roots - ALLOWED:
            offenders[path.name] = sorted(roots - ALLOWED)
    assert offenders == {}


def test_the_domain_never_reads_a_clock_or_makes_an_id() -> None:
    for path in sorted(DOMAIN.glob("*.py")):
        source = path.read_text()
        assert not [call for call in CLOCK_OR_IDS if f"{call}(" in source], path.name
