"""The layout of `entrypoints/` (ADR 0046), checked on the source: each part imports only the
parts below it, entry points ask the composition root for what they use, and the composition
root keeps no state of its own outside its container."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ENTRYPOINTS = Path(__file__).resolve().parents[2] / "entrypoints"
#: Highest first: a part may import itself and the parts after it, never one before it.
PARTS = ("cli", "demo", "http", "workers", "composition")
#: `bus.deps.<x>`: an entry point reaching through the bus for a dependency.
REACH_THROUGH = re.compile(r"\bbus(\(\))?\.deps\.")
#: Still reaching through, each left to the work that rewrites it: the idempotency claim in
#: `execute` (runtime.py), the read side's routes, and the intake's default translator, which
#: tests rely on when they build an intake over a bus of their own.
KNOWN_REACH_THROUGH = frozenset(
    {
        "http/runtime.py",
        "http/webhook_intake.py",
        "http/routes/credit_memos.py",
        "http/routes/customers.py",
        "http/routes/invoices.py",
        "http/routes/journal.py",
    }
)
#: OpenTelemetry's tracer provider is global to the process by its own API; `_active`
#: mirrors it so that tracing off costs one check (ADR 0020).
PROCESS_GLOBAL = frozenset({"composition/tracing.py"})


def _modules(part: str) -> Iterator[Path]:
    yield from sorted((ENTRYPOINTS / part).rglob("*.py"))


def _imported(tree: ast.AST) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _part_of(module: str) -> str | None:
    names = module.split(".")
    if len(names) > 1 and names[0] == "entrypoints" and names[1] in PARTS:
        return names[1]
    return None


def test_each_part_of_the_entry_points_imports_only_the_parts_below_it() -> None:
    upward = []
    for rank, part in enumerate(PARTS):
        for path in _modules(part):
            for module in _imported(ast.parse(path.read_text(), str(path))):
                other = _part_of(module)
                if other is not None and PARTS.index(other) < rank:
                    upward.append(f"{path.relative_to(ENTRYPOINTS)} imports {module}")
    assert upward == []


def test_every_part_is_a_package() -> None:
    assert [part for part in PARTS if not (ENTRYPOINTS / part / "__init__.py").is_file()] == []


def test_entry_points_ask_the_composition_root_for_what_they_use_not_the_bus() -> None:
    reaching = {
        str(path.relative_to(ENTRYPOINTS))
        for path in ENTRYPOINTS.rglob("*.py")
        if REACH_THROUGH.search(path.read_text())
    }
    assert reaching - KNOWN_REACH_THROUGH == set()


def _module_state(tree: ast.Module) -> Iterator[str]:
    """`global` statements anywhere, and empty containers bound at module level (state to be
    filled in later, like a list of what was opened)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            yield f"global {', '.join(node.names)}"
    for statement in tree.body:
        value = statement.value if isinstance(statement, ast.Assign | ast.AnnAssign) else None
        empty_display = isinstance(value, ast.List | ast.Dict | ast.Set) and not (
            getattr(value, "elts", None) or getattr(value, "keys", None)
        )
        empty_call = (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Name)
            and value.func.id in {"list", "dict", "set"}
            and not value.args
        )
        if empty_display or empty_call:
            yield ast.unparse(statement)


def test_the_composition_root_keeps_no_state_outside_its_container() -> None:
    stateful = {}
    for path in _modules("composition"):
        name = str(path.relative_to(ENTRYPOINTS))
        found = list(_module_state(ast.parse(path.read_text(), str(path))))
        if found and name not in PROCESS_GLOBAL:
            stateful[name] = found
    assert stateful == {}


def test_the_module_state_check_sees_a_list_of_what_was_opened() -> None:
    tree = ast.parse("_opened: list[object] = []\nclass C:\n    items = []\n")
    assert list(_module_state(tree)) == ["_opened: list[object] = []"]
