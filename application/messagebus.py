"""The message bus: one handler per command type, dependencies bound once in bootstrap.

A handler names what it uses: `def handle(cmd, ctx, *, unit_of_work, clock)`. After the command
and the request context, each parameter is bound once, when the handler is registered, from
the field of `Dependencies` with the same name (`unit_of_work` is the unit-of-work factory,
`dispatch` the bus's own `handle`, for handlers that send further commands, `feedback` the
CRM and the project together).

The bus is typed for its callers: a command that declares its result (`Returning[R]`, see
application/commands/base.py) is answered as an `R`; any other command as an `object`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar, overload

import attrs

from application.commands.base import Returning
from application.context import RequestContext
from application.errors import ApplicationError
from application.ports import (
    Clock,
    CrmFeedback,
    CustomerMaster,
    ErpReceivables,
    IdGenerator,
    InvoiceHandover,
    LedgerPosting,
    ProjectProvisioning,
    PsaTimeExport,
    Stopwatch,
    TaxEngine,
    WebhookTranslator,
)
from application.status_feedback import StatusFeedback
from application.unit_of_work import UnitOfWork
from domain.chart_of_accounts import ChartsOfAccounts
from domain.plausibility import PlausibilityPolicy


class UnitOfWorkFactory(Protocol):
    """A new unit of work for a request; `read_only` ones (previews, reports) never take a
    database's write lock."""

    def __call__(self, ctx: RequestContext, *, read_only: bool = False) -> UnitOfWork: ...


@attrs.frozen
class Dependencies:
    """What handlers may use; built once by the composition root."""

    uow: UnitOfWorkFactory
    clock: Clock
    ids: IdGenerator
    customer_master: CustomerMaster
    projects: ProjectProvisioning
    handover: InvoiceHandover
    general_ledger: LedgerPosting
    crm: CrmFeedback
    psa_time: PsaTimeExport
    erp_receivables: ErpReceivables
    webhooks: WebhookTranslator
    #: Times billing runs (ADR 0022); `clock` is the business's time, not a timer.
    stopwatch: Stopwatch
    #: The deployment's settings of the plausibility rules (ADR 0025).
    plausibility: PlausibilityPolicy = attrs.field(factory=PlausibilityPolicy)
    #: Resolves tax per category (ADR 0030); None: the billing run reads the tax table itself.
    tax_engine: TaxEngine | None = None
    #: The chart-of-accounts mapping per legal entity (ADR 0033); None: entries go to the
    #: journal only and nothing is posted to the ERP.
    charts: ChartsOfAccounts | None = None

    @property
    def feedback(self) -> StatusFeedback:
        """The CRM and the project, told an invoice's billing status together; bound to a
        handler that names `feedback`, as the fields are to those that name them."""
        return StatusFeedback(self.crm, self.projects)


R = TypeVar("R")

#: A handler: `(command, ctx, *, <the dependencies it names>) -> result`.
Handler = Callable[..., object]
Bound = Callable[[Any, RequestContext], Any]


class Dispatch(Protocol):
    """The bus's `handle`, as a handler that sends further commands names it."""

    @overload
    def __call__(self, command: Returning[R], ctx: RequestContext) -> R: ...

    @overload
    def __call__(self, command: object, ctx: RequestContext) -> object: ...


class UnknownCommandError(ApplicationError):
    code = "unknown_command"


class UnboundDependencyError(ApplicationError):
    """A handler names a parameter that is neither a dependency nor has a default."""

    code = "unbound_dependency"


def bind(handler: Handler, deps: Dependencies, dispatch: Dispatch) -> Bound:
    """The handler with every dependency it names bound, called as `bound(command, ctx)`."""
    parameters = list(inspect.signature(handler).parameters.values())[2:]
    bound: dict[str, object] = {}
    for parameter in parameters:
        if parameter.name == "unit_of_work":
            bound[parameter.name] = deps.uow
        elif parameter.name == "dispatch":
            bound[parameter.name] = dispatch
        elif parameter.name in _DEPENDENCY_NAMES:
            bound[parameter.name] = getattr(deps, parameter.name)
        elif parameter.default is inspect.Parameter.empty:
            raise UnboundDependencyError(
                f"{getattr(handler, '__qualname__', handler)} names {parameter.name!r}, "
                "which is no dependency"
            )
    return functools.partial(handler, **bound)


_FIELDS = frozenset(field.name for field in attrs.fields(Dependencies))
#: The factory is bound as `unit_of_work`; `feedback` is made of two fields.
_DEPENDENCY_NAMES = _FIELDS - {"uow"} | {"feedback"}


class MessageBus:
    """Dispatches each command to its handler with the bound dependencies."""

    def __init__(self, deps: Dependencies, handlers: Mapping[type, Handler]) -> None:
        self.deps = deps
        self._handlers: dict[type, Bound] = {}
        for command_type, handler in handlers.items():
            self.register(command_type, handler)

    def register(self, command_type: type, handler: Handler) -> None:
        self._handlers[command_type] = bind(handler, self.deps, self.handle)

    @overload
    def handle(self, command: Returning[R], ctx: RequestContext) -> R: ...

    @overload
    def handle(self, command: object, ctx: RequestContext) -> object: ...

    def handle(self, command: object, ctx: RequestContext) -> object:
        """The command's result from its handler; `UnknownCommandError` when it has none."""
        handler = self._handlers.get(type(command))
        if handler is None:
            raise UnknownCommandError(f"no handler for {type(command).__name__}")
        return handler(command, ctx)

    def command_types(self) -> dict[str, type]:
        """Command classes by name: replay rebuilds a stored command from its name."""
        return {cls.__name__: cls for cls in self._handlers}
