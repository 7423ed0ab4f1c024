"""Structured logs: one configuration for the API, the relay and the CLI (ADR 0020).

Every line goes to standard error through one structlog `ProcessorFormatter`, whether it was
logged with structlog or with the standard library (our modules' `logging.getLogger(__name__)`,
uvicorn, alembic, `warnings`): JSON lines when standard error is not a terminal, readable
coloured lines on a terminal (`THROUGHLINE_LOG_FORMAT` forces either). Fields passed as
`extra={...}` become keys of the line; the correlation id bound for a request or a command
(`structlog.contextvars`) is on every line logged meanwhile.

The last step before a line is rendered is `Redactor`: a key that names a credential or cost
data is replaced by `***`, and a value that looks like a credential (a demo API key, a
`whsec_` secret, a bearer token or JWT, a URL with a password, a known secret) is masked
wherever it appears. Standard output stays the CLI's human output.
"""

from __future__ import annotations

import functools
import importlib
import json
import logging
import re
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TextIO

import structlog
from structlog.processors import _json_fallback_handler
from structlog.typing import EventDict, Processor, WrappedLogger

from entrypoints.composition.settings import LogFormat, LogLevel, Settings
from entrypoints.composition.tracing import current_span_ids

MASK = "***"

#: Keys whose values are never written, whatever they hold (compared lower-case, `-` as `_`).
SECRET_KEYS = frozenset(
    {
        "api_key", "apikey", "x_api_key", "authorization", "proxy_authorization", "cookie",
        "set_cookie", "token", "access_token", "refresh_token", "id_token", "bearer", "secret",
        "client_secret", "password", "passwd", "jwt", "signature", "webhook_signature",
        "cost_rate", "cost", "costs", "margin", "margin_percent",
    }
)  # fmt: skip
#: A key containing one of these words is secret too (`jwt_secret`, `db_password`).
SECRET_WORDS = ("secret", "password", "passwd", "token", "api_key", "apikey", "authorization")

_SECRET_VALUES = (
    re.compile(r"tl_demo_[A-Za-z0-9_\-]+"),
    re.compile(r"whsec_[A-Za-z0-9+/=_\-]+"),
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9\-._~+/]+=*"),
    re.compile(r"\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*"),  # a JWT on its own
)
#: scheme://user:PASSWORD@host: the password is masked, the rest kept for the reader.
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/@]*:)[^\s@/]+(?=@)")

#: The loggers this configuration owns besides the root logger.
_UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.asgi")
_QUIETER = {"httpx": logging.WARNING, "httpcore": logging.WARNING, "alembic": logging.WARNING}

_LEVELS = {
    LogLevel.DEBUG: logging.DEBUG,
    LogLevel.INFO: logging.INFO,
    LogLevel.WARNING: logging.WARNING,
    LogLevel.ERROR: logging.ERROR,
}

log = logging.getLogger("throughline.cli")


def is_secret_key(key: object) -> bool:
    """A key that names a credential or cost data."""
    if isinstance(key, str):
        return _is_secret_name(key)
    return _is_secret_name(str(key))


@functools.lru_cache(maxsize=4096)
def _is_secret_name(key: str) -> bool:
    # Cached: every log line asks again for the same few keys (the access log's, per request).
    name = key.lower().replace("-", "_")
    return name in SECRET_KEYS or any(word in name for word in SECRET_WORDS)


def _may_hold_secret(text: str) -> bool:
    """False when no pattern of `_SECRET_VALUES` or `_URL_PASSWORD` can match: each needs one
    of these literal pieces (most log values, a route or a status, hold none)."""
    return (
        "tl_demo_" in text
        or "whsec_" in text
        or "eyJ" in text
        or "://" in text
        or "bearer" in text.lower()
    )


#: Values the redactor passes as they are (exact types: a subclass may render as text).
_PLAIN = frozenset({int, float, bool, type(None)})


class Redactor:
    """The structlog processor that masks secrets: by key at any depth, by shape in any text,
    and the process's own known secrets (the JWT secret) by value."""

    def __init__(self, known: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is masked whole.
        self.known = tuple(sorted({k for k in known if k}, key=len, reverse=True))

    def __call__(self, _logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
        value = self.value
        return {key: value(key, v) for key, v in event_dict.items()}

    def value(self, key: object, value: Any) -> Any:
        if value is not None and is_secret_key(key):
            return MASK
        kind = type(value)
        if kind is str:  # most values of a line: the text's own check, without `clean`'s
            return self.text(value)
        if kind in _PLAIN:  # a number, a flag or None holds no text to mask
            return value
        return self.clean(value)

    def clean(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {k: self.value(k, v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self.clean(v) for v in value]
        if isinstance(value, bytes):
            return self.text(value.decode("utf-8", "replace"))
        return value

    def text(self, text: str) -> str:
        for secret in self.known:
            text = text.replace(secret, MASK)
        if not _may_hold_secret(text):
            return text
        for pattern in _SECRET_VALUES:
            text = pattern.sub(MASK, text)
        return _URL_PASSWORD.sub(lambda m: m.group("head") + MASK, text)


#: The JSON lines' encoder, built once: `json.dumps` given a `default` (as structlog's
#: renderer passes its fallback) builds an encoder with these very settings on every call.
_JSON_LINE = json.JSONEncoder(default=_json_fallback_handler)


def _json_line(event_dict: EventDict, **_dumps_kw: Any) -> str:
    """`json.dumps(event_dict, default=<structlog's fallback>)`, the same text, without
    building an encoder per line (the renderer passes only that `default`)."""
    return _JSON_LINE.encode(event_dict)


def wants_json(log_format: LogFormat, stream: TextIO) -> bool:
    """JSON lines unless forced to console, or `auto` and the stream is a terminal."""
    if log_format is LogFormat.JSON:
        return True
    if log_format is LogFormat.CONSOLE:
        return False
    return not _is_terminal(stream)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class StandardErrorHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is when a line is emitted (a test runner swaps it).

    `processors`: what its formatter runs on a standard-library line once the record is
    unpacked (`ExtraAdder` and structlog's bookkeeping do nothing else), which `log_fields`
    runs on an event dict it builds itself."""

    def __init__(self, processors: tuple[Processor, ...] = ()) -> None:
        super().__init__(sys.stderr)
        self.processors = processors

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        """The stream is always the current standard error."""


def configure_logging(settings: Settings, *, process: str) -> None:
    """Route every log line of this process (structlog and the standard library) through one
    formatter to standard error. Calling it again replaces the configuration; it never adds a
    second handler."""
    stream = sys.stderr
    as_json = wants_json(settings.log_format, stream)
    shared = _shared_processors(process)
    renderer: Processor = (
        structlog.processors.JSONRenderer(serializer=_json_line)
        if as_json
        else structlog.dev.ConsoleRenderer(
            colors=_is_terminal(stream), exception_formatter=structlog.dev.plain_traceback
        )
    )
    last = [Redactor(known=[settings.jwt_secret or ""]), renderer]
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *shared],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,  # plain text, so the Redactor sees it
            *last,
        ],
    )
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, StandardErrorHandler)]:
        root.removeHandler(handler)
    handler = StandardErrorHandler((*shared, *last))
    handler.setFormatter(formatter)
    root.addHandler(handler)
    root.setLevel(_LEVELS[settings.log_level])
    _route_library_loggers()
    logging.captureWarnings(True)
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def _sole_handler(logger: logging.Logger, level: int) -> StandardErrorHandler | None:
    """Our handler when a line logged here can reach no other, and no filter looks at it."""
    node: logging.Logger | None = logger
    while node is not None:
        if node.filters:
            return None
        if node.parent is None:  # the root logger
            handlers = node.handlers
            if len(handlers) != 1 or not isinstance(handlers[0], StandardErrorHandler):
                return None
            handler = handlers[0]
            if handler.filters or level < handler.level or not handler.processors:
                return None
            return handler
        if node.handlers or not node.propagate:
            return None
        node = node.parent
    return None  # pragma: no cover - every logger descends from the root


def _write(
    handler: StandardErrorHandler,
    logger: logging.Logger,
    level: int,
    event: str,
    fields: Mapping[str, Any],
) -> None:
    method = logging.getLevelName(level).lower()
    line: Any = {"event": event, **fields}
    for processor in handler.processors:
        line = processor(logger, method, line)
    with handler.lock:  # as `Handler.handle` holds it around `StreamHandler.emit`
        handler.stream.write(line + handler.terminator)
        handler.flush()


def log_fields(logger: logging.Logger, level: int, event: str, fields: Mapping[str, Any]) -> None:
    """Log `event` with `fields`, exactly the line `logger.log(level, event, extra=fields)`
    writes. When the process's configuration is the only way that line can go (our handler
    alone, no filter on the way), the fields go straight through the handler's processors,
    without a `LogRecord` and the formatter's copy of it: the request log writes a line per
    request, and this takes about half its cost away. Anything else (a test capturing logs, a
    second handler) takes the ordinary path."""
    if not logger.isEnabledFor(level):
        return
    handler = _sole_handler(logger, level)
    if handler is not None:
        try:
            _write(handler, logger, level, event, fields)
            return
        except Exception:  # the ordinary path reports it, as logging does
            pass
    logger.log(level, event, extra=dict(fields), stacklevel=2)


def _shared_processors(process: str) -> list[Processor]:
    def add_process(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
        event_dict.setdefault("process", process)
        return event_dict

    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_process,
        _add_trace_ids,
        _drop_noise,
    ]


def _add_trace_ids(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """The current span's ids, so a line can be found from its trace (and back)."""
    ids = current_span_ids()
    if ids is not None:
        event_dict.setdefault("trace_id", ids[0])
        event_dict.setdefault("span_id", ids[1])
    return event_dict


def _drop_noise(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    event_dict.pop("color_message", None)  # uvicorn's coloured copy of the message
    return event_dict


def _route_library_loggers() -> None:
    """uvicorn's loggers go through the root handler; its access log is replaced by ours
    (`entrypoints.http.access_log`), so it is silenced; chatty libraries say only warnings."""
    for name in _UVICORN:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
    for name, level in _QUIETER.items():
        logging.getLogger(name).setLevel(level)


def current_command() -> str:
    """The running CLI command's name (`throughline period close`), never its arguments."""
    try:  # typer (0.22 and later) runs on its own copy of click
        click_globals = importlib.import_module("typer._click.globals")
    except ImportError:  # pragma: no cover - an older typer on the public click
        click_globals = importlib.import_module("click.globals")
    context = click_globals.get_current_context(silent=True)
    return str(context.command_path) if context is not None else "throughline"


@contextmanager
def logged_command(command: str, correlation_id: str) -> Iterator[None]:
    """A CLI command's start and finish (its name and correlation id, never its arguments);
    the correlation id is on every line logged meanwhile. For schedulers and log collectors:
    a person at a terminal reads the command's own output, so there they are debug lines."""
    started = time.perf_counter()
    outcome = "error"
    level = logging.DEBUG if _is_terminal(sys.stderr) else logging.INFO
    with structlog.contextvars.bound_contextvars(correlation_id=correlation_id):
        log.log(level, "cli.started", extra={"command": command})
        try:
            yield
            outcome = "ok"
        except SystemExit as stop:
            outcome = "ok" if stop.code in (0, None) else f"exit {stop.code}"
            raise
        except Exception as error:
            code = getattr(error, "exit_code", None)  # click's Exit carries its code
            if code is None:
                outcome = f"error: {type(error).__name__}"
            else:
                outcome = "ok" if code == 0 else f"exit {code}"
            raise
        finally:
            log.log(
                level,
                "cli.finished",
                extra={
                    "command": command,
                    "outcome": outcome,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
