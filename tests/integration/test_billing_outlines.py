"""The contracts' outlines a billing run lists before its first chunk (ADR 0060): on SQLite,
PostgreSQL and in memory, what building every contract and engagement would say, and the
contracts a chunk reads, untracked."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from adapters.memory.store import InMemoryStore
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from adapters.sqlalchemy.billing_reads import BINDING_STATES
from adapters.sqlalchemy.database import Database
from application.billing_reads import ContractOutline
from application.context import RequestContext
from application.unit_of_work import UnitOfWork
from domain.builders import approved_contract
from domain.contract import Contract, ContractVersion, VersionState
from domain.engagement import Engagement, EngagementState
from domain.ids import ContractId, CustomerId, EngagementId, ObligationId, RateCardId
from domain.split import ObligationPayers, Payer
from domain.time_and_materials import TimeAndMaterialsTerms
from tests.support.builders import AT, ENTITY, EUR

CTX = RequestContext("tester", "corr-outlines")
Opener = Callable[[], UnitOfWork]


def tm(obligation: str) -> TimeAndMaterialsTerms:
    return TimeAndMaterialsTerms(ObligationId(obligation), obligation, EUR, RateCardId("RC"))


def contracts() -> list[Contract]:
    """An amendment in draft, one approved over its SOW (and naming payers the draft before it
    did not), a terminated one, one never approved."""
    drafted = approved_contract("C1", "K1", "FR", [tm("OB-1")], date(2026, 1, 1), "legal", AT)
    drafted.draft_version(date(2026, 2, 1), [tm("OB-1"), tm("OB-9")])
    amended = approved_contract("C2", "K2", "FR", [tm("OB-2a")], date(2026, 1, 1), "legal", AT)
    amended.draft_version(
        date(2026, 2, 1), [tm("OB-2b"), tm("OB-2a")], payers=[shared("OB-2b", "K2", "P2")]
    )
    amended.approve_version(2, "legal", AT)
    drafted.draft_version(date(2026, 3, 1), [tm("OB-1")], payers=[shared("OB-1", "K1", "P1")])
    ended = approved_contract("C3", "K3", "FR", [tm("OB-3")], date(2026, 1, 1), "legal", AT)
    ended.terminate(date(2026, 1, 31), AT)
    unsigned = Contract(ContractId("C0"), CustomerId("K0"), ENTITY, EUR)
    unsigned.draft_version(date(2026, 1, 1), [tm("OB-0")])
    return [drafted, amended, ended, unsigned]


def shared(obligation: str, *payers: str) -> ObligationPayers:
    return ObligationPayers(
        ObligationId(obligation), tuple(Payer.percentage(CustomerId(p), "50") for p in payers)
    )


def engagement(engagement_id: str, contract_id: str, state: EngagementState) -> Engagement:
    made = Engagement.propose(
        EngagementId(engagement_id), CustomerId("K"), ContractId(contract_id), AT
    )
    made.state = state  # seeded as it stands, not walked there
    return made


def seed(open_uow: Opener) -> None:
    with open_uow() as u:
        for contract in contracts():
            u.contracts.add(contract)
        for made in (
            engagement("E1", "C1", EngagementState.ACTIVE),
            engagement("E2a", "C2", EngagementState.CANCELLED),
            engagement("E2b", "C2", EngagementState.SUSPENDED),
            engagement("E0", "C0", EngagementState.PROPOSED),
        ):
            u.engagements.add(made)
        u.commit()


def what_the_aggregates_say(open_uow: Opener) -> list[ContractOutline]:
    with open_uow() as u:
        every = u.contracts.all()
        engagements = u.engagements.for_contracts(x.contract_id for x in every)
        return [
            ContractOutline(
                x.contract_id,
                tuple(x.obligation_ids()),
                e.state if (e := engagements.get(x.contract_id)) else None,
                x.customer_id,
                x.legal_entity_id,
                tuple(x.payer_ids()),
            )
            for x in every
        ]


def assert_outlines_as_the_aggregates_say(open_uow: Opener) -> None:
    seed(open_uow)
    expected = what_the_aggregates_say(open_uow)
    with open_uow() as u:
        every = u.billing_reads.outlines()
        chosen = u.billing_reads.outlines([ContractId("C3"), ContractId("C1"), ContractId("C7")])
        read = u.billing_reads.contracts([ContractId("C3"), ContractId("C1"), ContractId("C7")])
        stored = {x.contract_id: repr(x) for x in u.contracts.all()}
    assert every == expected
    assert {x.contract_id: x.obligations for x in every} == {
        "C1": ("OB-1",),
        "C2": ("OB-2a", "OB-2b"),
        "C3": ("OB-3",),
        "C0": (),
    }
    assert {x.contract_id: x.engagement_state for x in every}["C2"] is EngagementState.SUSPENDED
    assert {x.contract_id: x.payer_ids() for x in every} == {
        "C1": ["K1"],  # its payers are named by a draft only
        "C2": ["K2", "P2"],
        "C3": ["K3"],
        "C0": ["K0"],
    }
    assert chosen == [x for x in expected if x.contract_id in ("C1", "C3")]
    assert [x.contract_id for x in read] == ["C1", "C3"]
    assert [repr(x) for x in read] == [stored["C1"], stored["C3"]]


def test_outlines_say_what_the_contracts_and_engagements_say_in_sql(database: Database) -> None:
    assert_outlines_as_the_aggregates_say(lambda: database.unit_of_work(CTX, lambda: AT))


def test_outlines_say_what_the_contracts_and_engagements_say_in_memory() -> None:
    store = InMemoryStore()
    assert_outlines_as_the_aggregates_say(lambda: InMemoryUnitOfWork(store, CTX, lambda: AT))


def assert_pages_join_into_every_outline_in_id_order(open_uow: Opener) -> None:
    seed(open_uow)
    expected = sorted(what_the_aggregates_say(open_uow), key=lambda x: x.contract_id)
    with open_uow() as u:
        for limit in (1, 3, 10):
            pages, after = [], None
            while page := u.billing_reads.outlines_after(after, limit):
                assert len(page) <= limit
                pages.append(page)
                after = page[-1].contract_id
            assert [x for page in pages for x in page] == expected
            assert len(pages) == -(-len(expected) // limit)
        assert u.billing_reads.outlines_after(ContractId("C1"), 2) == expected[2:4]
        assert u.billing_reads.outlines_after(ContractId("C3"), 2) == []


def test_outlines_come_a_page_at_a_time_in_id_order_in_sql(database: Database) -> None:
    assert_pages_join_into_every_outline_in_id_order(lambda: database.unit_of_work(CTX, lambda: AT))


def test_outlines_come_a_page_at_a_time_in_id_order_in_memory() -> None:
    store = InMemoryStore()
    assert_pages_join_into_every_outline_in_id_order(
        lambda: InMemoryUnitOfWork(store, CTX, lambda: AT)
    )


def test_contracts_a_run_reads_are_not_tracked(database: Database) -> None:
    seed(lambda: database.unit_of_work(CTX, lambda: AT))
    with database.unit_of_work(CTX, lambda: AT) as u:
        (read,) = u.billing_reads.contracts([ContractId("C1")])
        assert u.contracts.get("C1") is not read


@pytest.mark.parametrize("state", list(VersionState))
def test_the_outlines_bind_the_versions_the_domain_binds(state: VersionState) -> None:
    version = ContractVersion(ContractId("C1"), 1, date(2026, 1, 1), (), state=state)
    assert (state.value in BINDING_STATES) is version.is_binding
