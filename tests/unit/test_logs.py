"""Structured logs: the format follows the terminal, every line goes through one formatter, and
no secret (credential or cost data) gets through the redaction, whatever carries it."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from decimal import Decimal

import pytest
import structlog
from hypothesis import given
from hypothesis import strategies as st

from entrypoints.composition import logs
from entrypoints.composition.logs import (
    MASK,
    Redactor,
    StandardErrorHandler,
    configure_logging,
    log_fields,
    logged_command,
    wants_json,
)
from entrypoints.composition.settings import LogFormat, LogLevel, Settings

JWT_SECRET = "a-jwt-secret-of-at-least-thirty-two-characters"
DEMO_KEY = "tl_demo_Zx8-_q1Qw2Er3Ty4Ui5Op6As"
WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJmcmFuIn0.c2lnbmF0dXJlLXBhcnQ"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(False)
    structlog.reset_defaults()


def settings(**overrides: object) -> Settings:
    return Settings("memory://", **overrides)  # type: ignore[arg-type]


def redact(**fields: object) -> dict[str, object]:
    return Redactor(known=[JWT_SECRET])(None, "info", dict(fields))


# Redaction ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "api_key",
        "X-API-Key",
        "authorization",
        "Authorization",
        "token",
        "secret",
        "password",
        "jwt",
        "jwt_secret",
        "db_password",
        "client_secret",
        "cost_rate",
        "cost",
        "margin",
    ],
)
def test_a_key_that_names_a_credential_or_cost_data_is_masked_whatever_its_value(
    key: str,
) -> None:
    assert redact(**{key: "anything at all"})[key] == MASK
    assert redact(**{key: Decimal("95.50")})[key] == MASK


def test_secret_keys_are_masked_at_any_depth_in_mappings_and_lists() -> None:
    line = redact(
        headers={"X-API-Key": "k-123", "accept": "application/json"},
        entries=[{"entry_id": "T1", "cost_rate": Decimal("80.00"), "hours": "7.5"}],
    )
    assert line["headers"] == {"X-API-Key": MASK, "accept": "application/json"}
    assert line["entries"] == [{"entry_id": "T1", "cost_rate": MASK, "hours": "7.5"}]


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"the key {DEMO_KEY} was refused", DEMO_KEY),
        (f"signed with {WHSEC}.", WHSEC),
        (f"Authorization: Bearer {TOKEN}", TOKEN),
        ("authorization: bearer opaque-token-value", "opaque-token-value"),
        (f"a token on its own: {TOKEN}", TOKEN),
        ("postgresql+psycopg://app:s3cr3t-pw@db:5432/throughline", "s3cr3t-pw"),
        ("https://hook:pa55word@erp.example.com/in", "pa55word"),
        (f"the JWT secret {JWT_SECRET} leaked", JWT_SECRET),
    ],
)
def test_a_value_that_looks_like_a_credential_is_masked_in_any_field(
    text: str, secret: str
) -> None:
    line = redact(event=text, detail=[text], nested={"note": text})
    assert secret not in json.dumps(line)
    assert MASK in line["event"]  # type: ignore[operator]


def test_a_url_keeps_everything_but_its_password() -> None:
    line = redact(url="postgresql://app:pw-1@db.internal:5432/tl")
    assert line["url"] == f"postgresql://app:{MASK}@db.internal:5432/tl"


def test_ordinary_fields_pass_unchanged() -> None:
    fields = {
        "event": "http.request",
        "correlation_id": "c-1",
        "principal": "fran.finance",
        "route": "/invoices/{invoice_id:str}",
        "status": 200,
        "duration_ms": 3.2,
        "url": "https://erp.example.com/in",
    }
    assert redact(**fields) == fields


# Format -------------------------------------------------------------------------------------


def test_auto_writes_json_unless_standard_error_is_a_terminal() -> None:
    assert wants_json(LogFormat.AUTO, io.StringIO()) is True
    assert wants_json(LogFormat.AUTO, Terminal()) is False


def test_an_explicit_format_wins_over_the_terminal() -> None:
    assert wants_json(LogFormat.JSON, Terminal()) is True
    assert wants_json(LogFormat.CONSOLE, io.StringIO()) is False


def test_a_closed_stream_counts_as_no_terminal() -> None:
    stream = io.StringIO()
    stream.close()
    assert wants_json(LogFormat.AUTO, stream) is True


def test_standard_library_and_structlog_lines_are_one_json_line_each_with_their_fields(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(settings(jwt_secret=JWT_SECRET), process="api")

    logging.getLogger("throughline.test").info(
        "outbox.delivery", extra={"event_id": "E1", "subscriber": "erp", "secret": WHSEC}
    )
    structlog.get_logger("throughline.test").warning("native", cost_rate=Decimal("80"))

    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [line["event"] for line in lines] == ["outbox.delivery", "native"]
    first, second = lines
    assert (first["event_id"], first["subscriber"], first["secret"]) == ("E1", "erp", MASK)
    assert (first["level"], first["logger"], first["process"]) == (
        "info",
        "throughline.test",
        "api",
    )
    assert "timestamp" in first
    assert (second["level"], second["cost_rate"]) == ("warning", MASK)


def test_an_exception_is_rendered_as_text_and_redacted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(settings(), process="api")
    try:
        raise RuntimeError(f"refused Bearer {TOKEN}")
    except RuntimeError:
        logging.getLogger("throughline.test").exception("boom")

    (line,) = [json.loads(x) for x in capsys.readouterr().err.splitlines()]
    assert "RuntimeError" in line["exception"]
    assert TOKEN not in line["exception"]


def test_on_a_terminal_lines_are_readable_not_json(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    configure_logging(settings(log_format=LogFormat.AUTO), process="cli")

    logging.getLogger("throughline.test").info("cli.started", extra={"command": "x"})

    text = terminal.getvalue()
    assert "cli.started" in text
    assert "command" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text.splitlines()[0])


def test_configuring_twice_keeps_one_handler_and_takes_the_new_level() -> None:
    configure_logging(settings(), process="cli")
    configure_logging(settings(log_level=LogLevel.WARNING), process="api")

    root = logging.getLogger()
    assert len([h for h in root.handlers if isinstance(h, StandardErrorHandler)]) == 1
    assert root.level == logging.WARNING


def test_uvicorns_access_log_is_silenced_and_its_other_lines_come_through_ours(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(settings(), process="api")

    logging.getLogger("uvicorn.access").info('127.0.0.1 - "GET /invoices/INV-1 HTTP/1.1" 200')
    logging.getLogger("uvicorn.error").info(
        "Uvicorn running", extra={"color_message": "\x1b[1mUvicorn running\x1b[0m"}
    )

    (line,) = [json.loads(x) for x in capsys.readouterr().err.splitlines()]
    assert line["event"] == "Uvicorn running"
    assert "color_message" not in line


REQUEST_FIELDS = {
    "principal": "fran.finance",
    "method": "GET",
    "route": "/dashboard",
    "status": 200,
    "duration_ms": 0.4,
    "note": f"refused Bearer {TOKEN}",
}


def our_handler_alone(monkeypatch: pytest.MonkeyPatch) -> logging.Logger:
    """The root logger with only the handler `configure_logging` installed (as in a server,
    where no test runner adds its capturing handlers)."""
    root = logging.getLogger()
    ours = [h for h in root.handlers if isinstance(h, StandardErrorHandler)]
    monkeypatch.setattr(root, "handlers", ours)
    return logging.getLogger("throughline.test.request")


def without_timestamp(text: str) -> list[str]:
    return [" ".join(part for part in line.split() if "T" not in part or ":" not in part)
            for line in text.splitlines()]  # fmt: skip


@pytest.mark.parametrize("log_format", [LogFormat.JSON, LogFormat.CONSOLE])
def test_fields_logged_on_the_short_path_make_the_line_the_standard_library_makes(
    log_format: LogFormat, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(settings(jwt_secret=JWT_SECRET, log_format=log_format), process="api")
    logger = our_handler_alone(monkeypatch)

    with structlog.contextvars.bound_contextvars(correlation_id="c-42"):
        logger.info("http.request", extra=dict(REQUEST_FIELDS))
        ordinary = capsys.readouterr().err
        monkeypatch.setattr(logger, "makeRecord", None)  # the short path makes no record
        log_fields(logger, logging.INFO, "http.request", REQUEST_FIELDS)
        short = capsys.readouterr().err

    assert without_timestamp(short) == without_timestamp(ordinary)
    assert TOKEN not in short
    if log_format is LogFormat.JSON:
        assert list(json.loads(short)) == list(json.loads(ordinary))  # the same keys, in order
        assert json.loads(short)["correlation_id"] == "c-42"


def test_fields_still_reach_any_other_handler_and_are_not_written_below_the_level(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(settings(log_level=LogLevel.WARNING), process="api")
    logger = our_handler_alone(monkeypatch)
    log_fields(logger, logging.INFO, "http.request", REQUEST_FIELDS)
    assert capsys.readouterr().err == ""

    seen: list[logging.LogRecord] = []
    other = logging.Handler()
    other.emit = seen.append  # type: ignore[method-assign]
    logger.addHandler(other)
    try:
        log_fields(logger, logging.WARNING, "http.request", REQUEST_FIELDS)
    finally:
        logger.removeHandler(other)

    assert [(r.getMessage(), r.route) for r in seen] == [("http.request", "/dashboard")]  # type: ignore[attr-defined]
    assert json.loads(capsys.readouterr().err)["route"] == "/dashboard"


def test_a_cli_command_logs_its_start_and_finish_under_its_correlation_id(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(settings(), process="cli")

    with logged_command("throughline bill", "cli-0123456789abcdef"):
        logging.getLogger("throughline.test").info("inside")

    lines = [json.loads(x) for x in capsys.readouterr().err.splitlines()]
    assert [line["event"] for line in lines] == ["cli.started", "inside", "cli.finished"]
    assert {line["correlation_id"] for line in lines} == {"cli-0123456789abcdef"}
    assert lines[-1]["command"] == "throughline bill"
    assert lines[-1]["outcome"] == "ok"
    assert lines[-1]["duration_ms"] >= 0


def test_a_failed_cli_command_says_so_when_it_finishes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(settings(), process="cli")

    with pytest.raises(ValueError, match="bad"), logged_command("throughline bill", "cli-1"):
        raise ValueError("bad")

    finished = json.loads(capsys.readouterr().err.splitlines()[-1])
    assert finished["outcome"] == "error: ValueError"


def test_a_line_logged_inside_a_traced_span_carries_its_trace_and_span_ids(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from entrypoints.composition.settings import Tracing
    from entrypoints.composition.tracing import configure_tracing, started_span

    configure_logging(settings(), process="api")
    traced = settings(tracing=Tracing.OTLP)
    try:
        configure_tracing(traced, service="throughline-api", exporter=InMemorySpanExporter())
        with started_span("POST /engagements") as span:
            logging.getLogger("throughline.test").info("inside")
        logging.getLogger("throughline.test").info("outside")
    finally:
        configure_tracing(settings(), service="throughline-api")

    inside, outside = [json.loads(x) for x in capsys.readouterr().err.splitlines()]
    assert span is not None
    context = span.get_span_context()
    assert (inside["trace_id"], inside["span_id"]) == (
        f"{context.trace_id:032x}",
        f"{context.span_id:016x}",
    )
    assert "trace_id" not in outside


_LINE_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.decimals(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@given(st.dictionaries(st.text(), _LINE_VALUES, max_size=6))
def test_a_json_line_is_the_text_json_dumps_writes_with_structlogs_fallback(
    event_dict: dict[str, object],
) -> None:
    line = structlog.processors.JSONRenderer(serializer=logs._json_line)(None, "info", event_dict)
    assert line == structlog.processors.JSONRenderer()(None, "info", event_dict)
