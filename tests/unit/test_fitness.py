"""Fitness functions of the code's shape: handlers stay thin, modules stay one idea each.

Both read the source, not the behaviour; each failure names its offenders, largest first, so
whoever breaks the rule sees where.
"""

from __future__ import annotations

import ast
import inspect
import statistics
import textwrap
from collections.abc import Callable
from pathlib import Path

from application.handlers import HANDLERS

ROOT = Path(__file__).resolve().parents[2]

#: The most statement lines a median handler's body may have.
MEDIAN_HANDLER_BODY = 8
#: The most lines a module may have.
MODULE_LINES = 500
#: The layers whose modules are measured.
LAYERS = ("domain", "application", "adapters", "entrypoints")
#: Modules allowed to be longer: none. Migrations are frozen history and are not measured;
#: nothing in these layers is generated.
LONG_MODULES: frozenset[str] = frozenset()


def body_statement_lines(function: Callable[..., object]) -> int:
    """The lines on which a statement of the function's body starts, nested ones included,
    the docstring not: a call wrapped over five lines counts once, as does a one-line `if`."""
    node = ast.parse(textwrap.dedent(inspect.getsource(function))).body[0]
    assert isinstance(node, ast.FunctionDef)
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return len({sub.lineno for stmt in body for sub in ast.walk(stmt) if isinstance(sub, ast.stmt)})


def _handler_sizes() -> list[tuple[int, str]]:
    sizes = {
        (body_statement_lines(handler), f"{handler.__module__}.{handler.__qualname__}")
        for handler in HANDLERS.values()
    }
    return sorted(sizes, reverse=True)


def test_the_median_handler_body_is_at_most_eight_statement_lines() -> None:
    """A handler loads, asks the domain, stores and says what happened; the rules are the
    domain's and the mechanics (audit, outbox, posting) the unit of work's or a named helper's.
    Measured over every handler registered in application/handlers/__init__.py as the lines on
    which a statement of its body starts, without its docstring. The median, not the maximum:
    a handler that coordinates a claim, a call and a record may be longer, most may not."""
    sizes = _handler_sizes()
    median = statistics.median(size for size, _ in sizes)
    offenders = [f"{size:3d}  {name}" for size, name in sizes if size > MEDIAN_HANDLER_BODY]
    print(f"median handler body: {median} statement lines over {len(sizes)} handlers")
    print("longer than the target:\n" + "\n".join(offenders))
    assert median <= MEDIAN_HANDLER_BODY, "\n".join(offenders)


def test_no_module_is_longer_than_five_hundred_lines() -> None:
    """A module past 500 lines holds more than one idea: split it by concept. Migrations are
    frozen history and not measured; the list of exceptions is empty."""
    long = []
    for layer in LAYERS:
        for path in sorted((ROOT / layer).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative or relative in LONG_MODULES:
                continue
            lines = len(path.read_text().splitlines())
            if lines > MODULE_LINES:
                long.append((lines, relative))
    long.sort(reverse=True)
    print("\n".join(f"{lines:5d}  {name}" for lines, name in long))
    assert long == []


def test_the_measure_counts_statements_not_physical_lines() -> None:
    def sample(x: int) -> int:
        """A docstring is not counted."""
        total = sum(
            [
                x,
                x,
            ]
        )
        if total:
            return total
        return 0

    assert body_statement_lines(sample) == 4
