"""Rate cards, legal entities and intercompany read the same from the in-memory store and
from the database: the rate-card list paged by id, one card with its versions, each legal
entity's current version and its every version, the transfer pricing in force."""

from __future__ import annotations

import attrs
import pytest

from application import commands as c
from application.legal_entities import LegalEntityRecord
from application.queries.paging import PageRequest
from domain.ids import RateCardId
from entrypoints.composition.ops_reads import OpsReads, ops_reads_in_memory, ops_reads_on_sql
from tests.integration.support import SqlApp
from tests.support.documents import SELLER
from tests.unit.application.conftest import (
    App,
    set_up_tm_contract,
    told_in_memory_too,
)


def two_cards_and_an_entity_changed_once(app: App) -> None:
    set_up_tm_contract(app)
    app.do(c.CreateRateCard(RateCardId("RB"), "FR rates", "EUR"))
    app.do(c.PutLegalEntity(SELLER))
    app.do(c.PutLegalEntity(attrs.evolve(SELLER, legal_name="TL UK Limited")))


@pytest.fixture
def both(app: SqlApp) -> tuple[OpsReads, OpsReads]:
    memory = told_in_memory_too(app, two_cards_and_an_entity_changed_once)
    now = memory.clock.now
    return ops_reads_in_memory(memory.store, now), ops_reads_on_sql(app.database.engine, now)


def test_rate_cards_list_by_id_in_pages_and_one_card_reads_the_same(
    both: tuple[OpsReads, OpsReads],
) -> None:
    memory, sql = both
    for reads in both:
        first = reads.rate_cards.rate_cards(PageRequest(1))
        rest = reads.rate_cards.rate_cards(PageRequest.of(1, first.next_cursor))
        assert [(v.rate_card_id, v.versions) for v in (*first.items, *rest.items)] == [
            ("RB", 0),
            ("RC", 1),
        ]
        assert rest.next_cursor is None
    in_sql, in_memory = sql.rate_cards.rate_card("RC"), memory.rate_cards.rate_card("RC")
    assert in_sql is not None
    assert in_memory is not None
    assert attrs.asdict(in_sql) == attrs.asdict(in_memory)
    assert sql.rate_cards.rate_card("R-NONE") is None
    assert memory.rate_cards.rate_card("R-NONE") is None


def names(records: list[LegalEntityRecord]) -> list[tuple[str, str]]:
    return [(r.legal_entity_id, r.legal_name) for r in records]


def test_a_legal_entity_shows_its_current_version_and_keeps_every_one(
    both: tuple[OpsReads, OpsReads],
) -> None:
    for reads in both:
        entity = SELLER.legal_entity_id
        assert names(reads.legal_entities.legal_entities()) == [(entity, "TL UK Limited")]
        assert names(reads.legal_entities.legal_entity_versions(entity)) == [
            (entity, SELLER.legal_name),
            (entity, "TL UK Limited"),
        ]
        assert reads.legal_entities.legal_entity_versions("nobody") == []


def test_intercompany_reads_the_same_pricing_and_histories_in_both_stores(
    both: tuple[OpsReads, OpsReads],
) -> None:
    memory, sql = both
    assert sql.intercompany.transfer_pricing() == memory.intercompany.transfer_pricing()
    assert sql.intercompany.employment_histories(PageRequest()).items == ()
    assert memory.intercompany.employment_histories(PageRequest()).items == ()
