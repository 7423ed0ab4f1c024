"""Routes declared over a subject or a paged read are the operations their long form declares.

`Subject.command` and `paged` make the handler Litestar reads from a shorter declaration;
the OpenAPI document is the published contract, so each is checked here against the same
route written out by hand: the same operation (id, parameters in their order, body, answer),
and the same call reaching the command or the read.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Litestar, Request, Response
from litestar.testing import TestClient

from application.queries.paging import Page, PageRequest
from entrypoints.http.problems import EXCEPTION_HANDLERS
from entrypoints.http.routes.common import IdempotencyKey, Limit
from entrypoints.http.routes.declare import (
    RouteFamily,
    Subject,
    body_example,
    optional_query,
    path_param,
)
from entrypoints.http.routes.keyset import KeysetCursor, Rows, page_out, page_request, paged
from entrypoints.http.runtime import Page as PageOut

ThingPath = Annotated[str, path_param("The thing's id.", "a thing", "T-1")]
Kind = Annotated[str | None, optional_query("kind", "big ones", "big")]
_THINGS = RouteFamily("things", "things:write")


class NoteBody(msgspec.Struct, forbid_unknown_fields=True):
    note: str


class ThingOut(msgspec.Struct):
    thing_id: str
    did: str


def _act(request: Request[Any, Any, Any], thing_id: str, body: object, command: object) -> Any:
    return Response(ThingOut(thing_id, repr((command, body))))


_THING = Subject("thing_id", ThingPath, ThingOut, _act)
_EXAMPLE = body_example("a note", {"note": "kept"})


def _long_form() -> list[Any]:
    @_THINGS.post("/things/{thing_id:str}/touch", "Touch a thing")
    def touch_thing(
        request: Request[Any, Any, Any], thing_id: ThingPath, idempotency_key: IdempotencyKey
    ) -> Response[ThingOut]:
        return _act(request, thing_id, None, ("touch", thing_id))

    @_THINGS.post("/things/{thing_id:str}/note", "Note on a thing", status_code=201)
    def note_thing(
        request: Request[Any, Any, Any],
        thing_id: ThingPath,
        idempotency_key: IdempotencyKey,
        data: Annotated[NoteBody, _EXAMPLE],
    ) -> Response[ThingOut]:
        return _act(request, thing_id, data, ("note", thing_id, data.note))

    @_THINGS.post("/things/{thing_id:str}/look", "Look at a thing first")
    def look_at_thing(
        request: Request[Any, Any, Any], thing_id: ThingPath, idempotency_key: IdempotencyKey
    ) -> Response[ThingOut]:
        return _act(request, thing_id, None, ("look", request.method, thing_id))

    @_THINGS.get("/things", "List things", permission="things:read")
    def list_things(
        request: Request[Any, Any, Any],
        owner: Annotated[str, path_param("Whose.", "an owner", "ann")],
        limit: Limit = None,
        cursor: KeysetCursor = None,
        kind: Kind = None,
    ) -> PageOut[ThingOut]:
        return page_out(_things(owner, page_request(limit, cursor), kind), _shown)

    return [touch_thing, note_thing, look_at_thing, list_things]


def _declared() -> list[Any]:
    @_THINGS.post("/things/{thing_id:str}/touch", "Touch a thing")
    @_THING.command()
    def touch_thing(thing_id: str) -> object:
        return ("touch", thing_id)

    @_THINGS.post("/things/{thing_id:str}/note", "Note on a thing", status_code=201)
    @_THING.command(_EXAMPLE)
    def note_thing(thing_id: str, data: NoteBody) -> object:
        return ("note", thing_id, data.note)

    @_THINGS.post("/things/{thing_id:str}/look", "Look at a thing first")
    @_THING.command()
    def look_at_thing(request: Request[Any, Any, Any], thing_id: str) -> object:
        return ("look", request.method, thing_id)

    @_THINGS.get("/things", "List things", permission="things:read")
    @paged(ThingOut, _shown)
    def list_things(
        request: Request[Any, Any, Any],
        owner: Annotated[str, path_param("Whose.", "an owner", "ann")],
        page: PageRequest,
        kind: Kind = None,
    ) -> Rows:
        return _things(owner, page, kind)

    return [touch_thing, note_thing, look_at_thing, list_things]


def _things(owner: str, page: PageRequest, kind: str | None) -> Page[tuple[str, str]]:
    rows = [(f"{owner}-{n}", kind or "any") for n in range(3)]
    return Page(tuple(rows[: page.limit]), "more" if page.limit < 3 else None)


def _shown(row: tuple[str, str]) -> ThingOut:
    return ThingOut(*row)


def _app(handlers: list[Any]) -> Litestar:
    return Litestar(route_handlers=handlers, exception_handlers=EXCEPTION_HANDLERS)


def test_a_declared_route_is_the_operation_its_long_form_declares() -> None:
    long_form = _app(_long_form()).openapi_schema.to_schema()
    declared = _app(_declared()).openapi_schema.to_schema()

    assert declared == long_form
    touch = declared["paths"]["/things/{thing_id}/touch"]["post"]
    assert touch["operationId"] == "ThingsThingIdTouchTouchThing"
    assert [p["name"] for p in touch["parameters"]] == ["thing_id", "Idempotency-Key"]
    listing = declared["paths"]["/things"]["get"]
    assert [p["name"] for p in listing["parameters"]] == ["owner", "limit", "cursor", "kind"]


def test_a_declared_route_answers_as_its_long_form_answers() -> None:
    requests: list[tuple[str, str, dict[str, Any] | None]] = [
        ("POST", "/things/T-7/touch", None),
        ("POST", "/things/T-7/note", {"note": "kept"}),
        ("POST", "/things/T-7/note", {"note": "kept", "extra": 1}),
        ("POST", "/things/T-7/look", None),
        ("GET", "/things?owner=ann&limit=2&kind=big", None),
        ("GET", "/things?owner=ann&cursor=not-ours", None),
    ]
    answers = []
    for handlers in (_long_form(), _declared()):
        with TestClient(_app(handlers)) as client:
            sent = [
                client.request(method, path, json=body, headers={"Idempotency-Key": "k1"})
                for method, path, body in requests
            ]
            answers.append([_answer(response) for response in sent])

    long_form, declared = answers
    assert declared == long_form
    command, body = ("note", "T-7", "kept"), NoteBody("kept")
    assert declared[1] == (201, {"thing_id": "T-7", "did": repr((command, body))})
    assert declared[2][0] == 400  # an unknown field
    rows = [{"thing_id": "ann-0", "did": "big"}, {"thing_id": "ann-1", "did": "big"}]
    assert declared[3] == (200, {"thing_id": "T-7", "did": repr((("look", "POST", "T-7"), None))})
    assert declared[4] == (200, {"items": rows, "next_cursor": "more"})
    assert declared[5][0] == 400  # a cursor this API did not hand out


def _answer(response: Any) -> tuple[int, Any]:
    """Status and body, but the correlation id a problem carries (new per request)."""
    body = response.json()
    if isinstance(body, dict):
        body.pop("correlation_id", None)
    return response.status_code, body
