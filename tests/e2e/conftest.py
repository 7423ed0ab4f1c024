"""What the end-to-end suites in this process set up alike: a container with nothing left over
from another test, and the CLI on an empty in-memory database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from entrypoints.composition.database import MemoryDatabase
from tests.e2e.cli_harness import InProcess, reset_container


@pytest.fixture
def fresh_container() -> Iterator[None]:
    """No override or singleton of another test before, none of this one's after."""
    reset_container()
    yield
    reset_container()


@pytest.fixture
def memory_cli(tmp_path: Path) -> Iterator[InProcess]:
    """The CLI in this process, on an empty in-memory database."""
    runner = InProcess(MemoryDatabase(), tmp_path)
    yield runner
    runner.close()
