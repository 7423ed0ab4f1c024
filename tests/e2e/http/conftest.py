from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.http.harness import Api, running_api


@pytest.fixture
def api() -> Iterator[Api]:
    with running_api() as running:
        yield running
