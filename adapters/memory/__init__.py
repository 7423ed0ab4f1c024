"""In-memory adapters: a unit of work over plain dictionaries (`store`, `records`,
`unit_of_work`), and fakes of the external systems (`fakes`). Used by the unit tests of the
application layer and by a process that has no real connector configured.
"""

from adapters.memory.fakes import (
    FakeClock,
    FakeCrm,
    FakeCustomerMaster,
    FakeErpReceivables,
    FakeEventPublisher,
    FakeGeneralLedger,
    FakeHandover,
    FakeProjects,
    FakePsaTimeExport,
    FakeStopwatch,
    SequentialIds,
)
from adapters.memory.store import InMemoryStore
from adapters.memory.unit_of_work import InMemoryUnitOfWork

__all__ = [
    "FakeClock",
    "FakeCrm",
    "FakeCustomerMaster",
    "FakeErpReceivables",
    "FakeEventPublisher",
    "FakeGeneralLedger",
    "FakeHandover",
    "FakeProjects",
    "FakePsaTimeExport",
    "FakeStopwatch",
    "InMemoryStore",
    "InMemoryUnitOfWork",
    "SequentialIds",
]
