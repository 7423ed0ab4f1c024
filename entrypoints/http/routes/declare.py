"""Route declarations said once per family: the tag, the permission and the house defaults.

Every operation of the API carries the same few settings: its permission in `opt`, one tag,
the documented problem responses, a worker thread for the synchronous handler, and (for a
command) 200 unless it creates something. A `RouteFamily` holds what a module's routes share,
so a route states only its path, its summary and the problems it can answer on top of the
common ones:

    milestones = RouteFamily("milestones", "delivery:read")

    @milestones.post("/milestones/{milestone_id:str}/accept", "The client accepts ...",
                     *WRITE_PROBLEMS, permission="milestones:write")

Anything else a route needs (a description, another status) passes through as Litestar has it.
The operations come out exactly as the long form declares them.

A command on one object (approve an invoice, suspend an engagement) states only what differs
from its siblings: the route above, and below it the command the request makes, as a plain
function named for the operation. Its `Subject` gives the rest of the handler Litestar reads:

    @milestones.post("/milestones/{milestone_id:str}/reject", "The client rejects ...",
                     *RULED_WRITE_PROBLEMS, permission="milestones:write")
    @_MILESTONE.command(body_example("rework", {"reason": "load tests missing"}))
    def reject_milestone(milestone_id: str, data: RejectBody) -> object:
        return c.RejectMilestone(MilestoneId(milestone_id), data.reason)

`optional_query` is the same for the optional filters of the lists (`?state=`, `?kind=`),
`path_param` for the ids in a path, and `respond_after` for the commands that answer with the
object as it now stands.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from enum import Enum
from typing import Annotated, Any

import attrs
from litestar import Request, Response, get, post, put
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import Body, Parameter

from application.context import RequestContext
from entrypoints.http.routes.common import IdempotencyKey, documented, permission, query_param
from entrypoints.http.runtime import execute, services_of


@attrs.frozen
class RouteFamily:
    """The routes of one tag, guarded by one permission unless a route names another."""

    tag: str
    permission: str

    def _settings(
        self,
        summary: str,
        problems: tuple[str, ...],
        guard: str | None,
        answers: dict[int, ResponseSpec] | None,
    ) -> dict[str, Any]:
        responses = documented(*problems)
        return {
            "opt": permission(guard or self.permission),
            "tags": [self.tag],
            "summary": summary,
            "responses": {**answers, **responses} if answers else responses,
            "sync_to_thread": True,
        }

    def get(
        self,
        path: str,
        summary: str,
        *problems: str,
        permission: str | None = None,
        answers: dict[int, ResponseSpec] | None = None,
        **more: Any,
    ) -> get:
        """A read: `GET path`, answering 200."""
        return get(path, **self._settings(summary, problems, permission, answers), **more)

    def post(
        self,
        path: str,
        summary: str,
        *problems: str,
        permission: str | None = None,
        answers: dict[int, ResponseSpec] | None = None,
        status_code: int = 200,
        **more: Any,
    ) -> post:
        """A command: `POST path`, answering 200 (or `status_code`, 201 when it creates)."""
        settings = self._settings(summary, problems, permission, answers)
        return post(path, status_code=status_code, **settings, **more)

    def create(self, path: str, summary: str, **more: Any) -> post:
        """A creation: `POST path` answering 201, refused when the id is taken (409)."""
        return self.post(
            path,
            summary,
            "conflict",
            "idempotency-key-reused",
            "request-in-progress",
            status_code=201,
            **more,
        )

    def put(
        self,
        path: str,
        summary: str,
        *problems: str,
        permission: str | None = None,
        status_code: int = 200,
        **more: Any,
    ) -> put:
        """A replacement: `PUT path`, answering 200."""
        settings = self._settings(summary, problems, permission, None)
        return put(path, status_code=status_code, **settings, **more)


def body_example(summary: str, value: dict[str, Any]) -> Any:
    """A request body's OpenAPI example."""
    return body_examples({summary: value})


def body_examples(examples: dict[str, dict[str, Any]]) -> Any:
    """A request body's OpenAPI examples, each value under its summary, in this order."""
    return Body(examples=[Example(summary=s, value=v) for s, v in examples.items()])


def path_param(description: str, example: str, value: Any, **constraints: Any) -> Any:
    """A path parameter (`/engagements/{engagement_id}`): what it names, one example and its
    limits (`pattern`, `ge`, `le`)."""
    return Parameter(
        description=description, examples=[Example(summary=example, value=value)], **constraints
    )


def optional_query(name: str, example: str, value: Any, **constraints: Any) -> Any:
    """An optional filter of a list (`?state=issued`), with one example and its limits
    (`max_length`, `pattern`, `description`)."""
    return query_param(name, example, value, required=False, **constraints)


def state_query(states: type[Enum], example: str, value: str) -> Any:
    """An optional `?state=` filter of a list that names one of `states` or is refused (400):
    a misspelt state would otherwise filter everything out and look like an empty list."""
    names = [str(s.value) for s in states]
    return optional_query(
        "state",
        example,
        value,
        pattern=f"^({'|'.join(names)})$",
        description=f"Only those in this state: one of {', '.join(names)}.",
    )


def respond_after(
    request: Request[Any, Any, Any],
    body: object,
    command: object,
    answer: Callable[[Any], object],
    *,
    status: int = 200,
) -> Response[Any]:
    """Handle `command` once per Idempotency-Key and answer `status` with what `answer` makes
    of the bus's result (for most routes: the object re-read as it now stands)."""
    services = services_of(request)

    def run(ctx: RequestContext) -> tuple[int, object]:
        return status, answer(services.bus.handle(command, ctx))

    return execute(request, body, run)


def respond_seen(
    request: Request[Any, Any, Any], body: object, command: object, read: Callable[[], object]
) -> Response[Any]:
    """`respond_after` for a command on one object the caller must be able to see: `read`
    (a 404 for an object that does not exist or is not shown to the caller) runs before the
    command is handled, and again for the answer, the object as it now stands."""
    read()
    return respond_after(request, body, command, lambda _: read())


#: How a command on one object answers: `(request, the object's id, the body, the command)`.
Act = Callable[[Request[Any, Any, Any], str, object, object], Response[Any]]


@attrs.frozen
class Subject:
    """The object a family's commands act on: the path parameter naming it (`key`, declared
    as `path`), the answer a command on it gives (`answer`, made by `act`)."""

    key: str
    path: Any
    answer: type
    act: Act

    def command(self, example: Any = None) -> Callable[[Callable[..., object]], Any]:
        """Make the Litestar handler of a command on this subject from the function that
        makes the command: `does(key)`, or `does(key, data)` for a command with a body (typed
        by `does`'s `data` and shown with `example`); a `does` that reads something first
        takes the request too, `does(request, key, ...)`. The handler takes the request, the
        path parameter, the `Idempotency-Key` header and the body, in that order, and is named
        after `does`, which names the operation in the OpenAPI document."""

        def declare(does: Callable[..., object]) -> Any:
            body = typing.get_type_hints(does).get("data")
            reads = "request" in inspect.signature(does).parameters
            hints: dict[str, Any] = {
                "request": Request[Any, Any, Any],
                self.key: self.path,
                "idempotency_key": IdempotencyKey,
            }
            if body is not None:
                hints["data"] = Annotated[body, example]

            def handle(request: Request[Any, Any, Any], **values: Any) -> Response[Any]:
                key, data = values[self.key], values.get("data")
                given = (request, key) if reads else (key,)
                command = does(*given) if body is None else does(*given, data)
                return self.act(request, key, data, command)

            parameters = [inspect.Parameter(n, _NAMED, annotation=t) for n, t in hints.items()]
            return handler_like(does, parameters, Response[self.answer], handle)

        return declare


def answering(answer: Callable[[Any], object]) -> Act:
    """The `act` of a subject whose commands answer with what `answer` makes of the bus's
    result (`respond_after`); the id in the path is only the command's."""

    def act(request: Request[Any, Any, Any], _key: str, body: object, command: object) -> Any:
        return respond_after(request, body, command, answer)

    return act


_NAMED = inspect.Parameter.POSITIONAL_OR_KEYWORD


def handler_like(
    like: Callable[..., object],
    parameters: list[inspect.Parameter],
    returns: Any,
    handle: Callable[..., object],
) -> Any:
    """`handle` (a function of the parameters' values by name, made for this route) as
    Litestar reads a handler: named after `like` and of its module (the operation id comes
    from the name), taking `parameters` in their order and answering `returns`."""
    handle.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        parameters, return_annotation=returns
    )
    handle.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": returns}
    handle.__name__ = handle.__qualname__ = like.__name__
    handle.__module__ = like.__module__
    return handle
