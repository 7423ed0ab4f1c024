"""What a client viewer sees of its customer's documents: issued ones only, never the firm's
people behind them.

Issue 9: a client viewer listing `GET /invoices?state=draft` saw its customer's drafts, with
staff names in `created_by`. Now a client viewer sees invoices that were issued (issued,
partially paid, paid, disputed, credited) and issued credit memos, in lists and by id (a draft,
an approved or a discarded document answers 404, like another customer's), and no staff
identity: `created_by`, `approved_by` and the other keys of `STAFF_KEYS` are absent from what
it gets (absent, not null, as cost keys are for roles without `rates:read_cost`).

Two customers, two client viewers (acme and globex) everywhere, on the seeded world of
`tests/e2e/http/world.py`: each has an issued invoice (with a payment and an issued credit
memo) and a second invoice still in draft.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from entrypoints.http.security import STAFF_KEYS
from tests.e2e.http.answers import ok, strings_and_keys
from tests.e2e.http.harness import IDENTITIES, Api, running_api
from tests.e2e.http.routing import GUARDED, Operation, may, problem_uri, required_query
from tests.e2e.http.stage import UNLIMITED
from tests.e2e.http.world import Tenant, World, seed

VIEWERS = {"client_viewer": "acme", "client_viewer_b": "globex"}
#: The principals of the firm's people and systems that act in the seeded world: the harness's
#: identities other than the client viewers, and the actors the world's commands ran as.
STAFF = frozenset(
    {principal for name, (_k, principal, _r, _c) in IDENTITIES.items() if name not in VIEWERS}
    | {"clerk", "controller", "legal", "crm", "clm"}
)
TWO_HOURS = {"lines": [{"line_no": 1}], "reason": "line 1 credited"}


@pytest.fixture
def world_api() -> Iterator[tuple[Api, World]]:
    with running_api(limits=UNLIMITED) as running:
        yield running, seed(running.app)


@pytest.fixture(scope="module")
def read_only_world() -> Iterator[tuple[Api, World]]:
    with running_api(limits=UNLIMITED) as running:
        yield running, seed(running.app)


@pytest.fixture(params=VIEWERS)
def viewer(request: pytest.FixtureRequest) -> str:
    """Each client viewer in turn."""
    return str(request.param)


@pytest.fixture
def own(read_only_world: tuple[Api, World], viewer: str) -> Tenant:
    """The viewer's own customer in the seeded world."""
    return read_only_world[1].of(VIEWERS[viewer])


def is_not_found(response: Any) -> bool:
    return response.status_code == 404 and response.json()["type"] == problem_uri("not-found")


def without(document: dict[str, Any], keys: frozenset[str]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in keys}


def test_a_client_viewer_lists_only_its_customers_issued_invoices(
    read_only_world: tuple[Api, World], viewer: str, own: Tenant
) -> None:
    api, _ = read_only_world
    listed = ok(api.get("/invoices", who=viewer))["items"]
    assert [(i["invoice_id"], i["state"]) for i in listed] == [
        (own.issued_invoice, "partially_paid")
    ]
    # asking for drafts shows none, though the customer has one (finance sees it)
    assert ok(api.get("/invoices", who=viewer, state="draft"))["items"] == []
    drafts = ok(api.get("/invoices", who="finance", state="draft", customer_id=own.customer_id))
    assert [i["invoice_id"] for i in drafts["items"]] == [own.draft_invoice]


def test_a_draft_is_404_to_a_client_viewer_like_another_customers_invoice(
    read_only_world: tuple[Api, World], viewer: str, own: Tenant
) -> None:
    api, world = read_only_world
    other = world.other(VIEWERS[viewer])
    draft = api.get(f"/invoices/{own.draft_invoice}", who=viewer)
    theirs = api.get(f"/invoices/{other.issued_invoice}", who=viewer)
    nowhere = api.get("/invoices/INV-999999", who=viewer)
    assert is_not_found(draft), draft.text
    assert is_not_found(theirs), theirs.text
    assert [r.json()["detail"].split()[:4] for r in (draft, theirs)] == [
        nowhere.json()["detail"].split()[:4]
    ] * 2  # "there is no invoice": nothing tells a draft from a stranger's invoice
    assert ok(api.get(f"/invoices/{own.draft_invoice}", who="finance"))["state"] == "draft"


def test_a_client_viewer_gets_no_staff_identity_on_an_invoice_or_a_credit_memo(
    read_only_world: tuple[Api, World], viewer: str, own: Tenant
) -> None:
    api, _ = read_only_world
    for path in (f"/invoices/{own.issued_invoice}", f"/credit-memos/{own.credit_memo_id}"):
        seen = ok(api.get(path, who=viewer))
        staff_view = ok(api.get(path, who="finance"))
        assert {"created_by", "approved_by"} <= set(staff_view), path
        assert (staff_view["created_by"], staff_view["approved_by"]) == ("clerk", "controller")
        # absent, not null; everything else exactly as the firm's own people see it
        assert STAFF_KEYS.isdisjoint(seen), path
        assert seen == without(staff_view, STAFF_KEYS), path


def test_a_credit_memo_is_shown_to_the_client_viewer_only_once_issued(
    world_api: tuple[Api, World],
) -> None:
    api, world = world_api
    acme = world.acme
    api.app.bus.deps.ids.next_id("CM")  # the world named its own memo CM-000001
    drafted = ok(
        api.post(f"/invoices/{acme.issued_invoice}/credit-memos", TWO_HOURS, who="finance"), 201
    )
    memo = drafted["credit_memo_id"]

    def shown() -> tuple[bool, list[str]]:
        by_id = api.get(f"/credit-memos/{memo}", who="client_viewer")
        listed = ok(api.get("/credit-memos", who="client_viewer"))["items"]
        assert by_id.status_code in (200, 404), by_id.text
        return by_id.status_code == 200, [m["credit_memo_id"] for m in listed]

    assert shown() == (False, [acme.credit_memo_id])  # draft
    ok(api.post(f"/credit-memos/{memo}/approve", who="finance_approver"))
    assert shown() == (False, [acme.credit_memo_id])  # approved
    ok(api.post(f"/credit-memos/{memo}/issue", {"issue_date": "2026-04-03"}, who="finance"))
    assert shown() == (True, sorted([acme.credit_memo_id, memo]))
    # the other customer's viewer never sees it, issued or not
    assert is_not_found(api.get(f"/credit-memos/{memo}", who="client_viewer_b"))
    others = ok(api.get("/credit-memos", who="client_viewer_b"))["items"]
    assert [m["credit_memo_id"] for m in others] == [world.globex.credit_memo_id]


def test_an_invoice_is_shown_to_the_client_viewer_from_its_issue_on(
    world_api: tuple[Api, World],
) -> None:
    api, world = world_api
    draft = world.globex.draft_invoice
    assert is_not_found(api.get(f"/invoices/{draft}", who="client_viewer_b"))
    ok(api.post(f"/invoices/{draft}/approve", who="finance_approver"))
    assert is_not_found(api.get(f"/invoices/{draft}", who="client_viewer_b"))  # approved
    ok(api.post(f"/invoices/{draft}/issue", {"issue_date": "2026-04-30"}, who="finance"))
    issued = ok(api.get(f"/invoices/{draft}", who="client_viewer_b"))
    assert (issued["state"], issued["number"]) == ("issued", "INV-2026-000003")
    assert STAFF_KEYS.isdisjoint(issued)
    listed = ok(api.get("/invoices", who="client_viewer_b"))["items"]
    assert {i["invoice_id"] for i in listed} == {world.globex.issued_invoice, draft}
    assert is_not_found(api.get(f"/invoices/{draft}", who="client_viewer"))


def test_a_discarded_invoice_stays_out_of_the_client_viewers_sight(
    world_api: tuple[Api, World],
) -> None:
    api, world = world_api
    draft = world.acme.draft_invoice
    ok(api.post(f"/invoices/{draft}/discard", {"reason": "wrong month"}, who="finance"))
    assert is_not_found(api.get(f"/invoices/{draft}", who="client_viewer"))
    assert ok(api.get("/invoices", who="client_viewer", state="discarded"))["items"] == []


# Every GET a client viewer may call, for both viewers: no staff identity anywhere -------------

VIEWER_GETS = [
    pytest.param(op, viewer, id=f"{viewer}-{op.id}")
    for op in GUARDED
    if op.method == "GET" and not op.is_public
    for viewer in VIEWERS
    if may(viewer, op.permission)
]


@pytest.mark.parametrize(("op", "viewer"), VIEWER_GETS)
def test_no_staff_identity_reaches_a_client_viewer_on_any_route(
    read_only_world: tuple[Api, World], op: Operation, viewer: str
) -> None:
    api, world = read_only_world
    values = world.values(VIEWERS[viewer])
    response = api.client.get(
        op.path(values), headers=api.headers(viewer), params=required_query(op, values)
    )
    assert response.status_code == 200, response.text
    strings, keys = strings_and_keys(response.json())
    assert keys.isdisjoint(STAFF_KEYS), sorted(keys & STAFF_KEYS)
    assert strings.isdisjoint(STAFF), sorted(strings & STAFF)


def test_the_route_walk_reads_every_kind_of_document_a_client_viewer_may_see() -> None:
    paths = {op.path_format for op, _viewer in (p.values for p in VIEWER_GETS)}
    assert {
        "/invoices",
        "/invoices/{invoice_id}",
        "/credit-memos",
        "/credit-memos/{credit_memo_id}",
        "/contracts/{contract_id}",
    } <= paths
