"""What the process is configured with, read from the environment once, at the edge, and
checked before anything starts (ADR 0021).

Every setting is one typed field with one environment variable. `Settings.from_env()` reads
them all and stops at the first value it cannot use with a `SettingsError` that names the
variable and what it expected (never the value of a secret). `Settings.describe()` is the
effective configuration for `throughline config`, with secrets masked.

The files that variables name (API keys, webhook secrets, subscribers, the neighbouring systems'
data) must exist when the settings are read; their content is checked by whoever loads them,
with messages that name the file and the entry.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

DATABASE_URL_VARIABLE = "THROUGHLINE_DATABASE_URL"
CUSTOMER_MASTER_VARIABLE = "THROUGHLINE_CUSTOMER_MASTER"
PSA_HOURS_VARIABLE = "THROUGHLINE_PSA_HOURS"
ERP_RECEIVABLES_VARIABLE = "THROUGHLINE_ERP_RECEIVABLES"
CHART_OF_ACCOUNTS_VARIABLE = "THROUGHLINE_CHART_OF_ACCOUNTS"
ACTOR_VARIABLE = "THROUGHLINE_ACTOR"
API_KEYS_VARIABLE = "THROUGHLINE_API_KEYS"
JWT_SECRET_VARIABLE = "THROUGHLINE_JWT_SECRET"
JWT_ISSUER_VARIABLE = "THROUGHLINE_JWT_ISSUER"
JWT_AUDIENCE_VARIABLE = "THROUGHLINE_JWT_AUDIENCE"
WEBHOOK_SECRETS_VARIABLE = "THROUGHLINE_WEBHOOK_SECRETS"
SUBSCRIBERS_VARIABLE = "THROUGHLINE_SUBSCRIBERS"
EVENT_SOURCE_VARIABLE = "THROUGHLINE_EVENT_SOURCE"
RELAY_VARIABLE = "THROUGHLINE_RELAY"
RATE_LIMIT_VARIABLE = "THROUGHLINE_RATE_LIMIT"
LOG_FORMAT_VARIABLE = "THROUGHLINE_LOG_FORMAT"
LOG_LEVEL_VARIABLE = "THROUGHLINE_LOG_LEVEL"
TRACING_VARIABLE = "THROUGHLINE_TRACING"
SHUTDOWN_TIMEOUT_VARIABLE = "THROUGHLINE_SHUTDOWN_TIMEOUT"
METRICS_DIR_VARIABLE = "THROUGHLINE_METRICS_DIR"
FUTURE_TOLERANCE_DAYS_VARIABLE = "THROUGHLINE_FUTURE_TOLERANCE_DAYS"

#: The in-memory database: lives as long as the process (tests, embedding, one-shot runs).
MEMORY_URL = "memory://"
DEFAULT_EVENT_SOURCE = "urn:throughline:local"
MASK = "***"


class SettingsError(ValueError):
    """A configuration value cannot be used; the message names the variable and what it
    expected."""

    def __init__(self, variable: str, expected: str, got: str) -> None:
        super().__init__(f"{variable}: expected {expected}; got {got}")
        self.variable = variable


class RelayMode(enum.StrEnum):
    OFF = "off"
    IN_PROCESS = "in-process"


class LogFormat(enum.StrEnum):
    AUTO = "auto"  # JSON lines when standard error is not a terminal, readable when it is
    JSON = "json"
    CONSOLE = "console"


class LogLevel(enum.StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class Tracing(enum.StrEnum):
    OFF = "off"
    OTLP = "otlp"  # the OTLP/HTTP exporter, configured by the standard OTEL_* variables
    CONSOLE = "console"  # spans printed to standard error, for a look on a terminal


def default_database_url() -> str:
    """`$THROUGHLINE_DATABASE_URL`, else the SQLite file under `var/` (the adapter decides)."""
    from adapters.sqlalchemy.database import default_database_url as adapter_default

    return adapter_default()


# Parsers: the text of a variable → the typed value, or a SettingsError ------------------------

Parser = Callable[[str, str], Any]


def _shown(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _database_url(variable: str, text: str) -> str:
    if text.startswith(MEMORY_URL):
        return text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    expected = (
        "a database URL such as sqlite:///var/throughline.db, "
        "postgresql+psycopg://user@host/db or memory://"
    )
    shown = _shown(_redact(text))
    try:
        backend = make_url(text).get_backend_name()
    except (ArgumentError, ValueError):
        raise SettingsError(variable, expected, f"{shown}, which is not a database URL") from None
    if backend not in ("sqlite", "postgresql"):
        raise SettingsError(variable, expected, f"{shown}, a database this build cannot use")
    return text


def _existing_file(variable: str, text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise SettingsError(variable, "the path of a readable file", f"{text!r} (no such file)")
    return path


def _secret(minimum: int) -> Parser:
    def parse(variable: str, text: str) -> str:
        if len(text) < minimum:
            raise SettingsError(
                variable, f"a secret of at least {minimum} characters", f"{len(text)} characters"
            )
        return text

    return parse


def _text(variable: str, text: str) -> str:
    if not text or any(ch.isspace() for ch in text):
        raise SettingsError(variable, "a non-empty value without spaces", _shown(text))
    return text


def _event_source(variable: str, text: str) -> str:
    from adapters.outbound.cloudevents_envelope import valid_source

    if not valid_source(text):
        raise SettingsError(variable, "a URI reference without spaces", _shown(text))
    return text


def _whole(minimum: int, what: str) -> Parser:
    def parse(variable: str, text: str) -> int:
        if not text.isdigit() or int(text) < minimum:
            raise SettingsError(variable, f"{what}, a whole number from {minimum}", _shown(text))
        return int(text)

    return parse


def _seconds(variable: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise SettingsError(variable, "a number of seconds above 0 and at most 3600", _shown(text))
    return value


def _choice(kind: type[enum.StrEnum]) -> Parser:
    def parse(variable: str, text: str) -> enum.StrEnum:
        try:
            return kind(text.lower())
        except ValueError:
            allowed = ", ".join(member.value for member in kind)
            raise SettingsError(variable, f"one of {allowed}", _shown(text)) from None

    return parse


def _path(_variable: str, text: str) -> Path:
    return Path(text)


def _redact(url: str) -> str:
    from entrypoints.composition.database import redact

    return redact(url)


def _setting(
    variable: str, parse: Parser, help: str, *, secret: bool = False, default: Any = None
) -> Any:
    return attrs.field(
        default=default,
        kw_only=True,
        metadata={"variable": variable, "parse": parse, "help": help, "secret": secret},
    )


@attrs.frozen
class Settings:
    """The whole configuration of a process; build it with `from_env` (tests may build it
    directly: only `database_url` is required)."""

    database_url: str = attrs.field(
        metadata={
            "variable": DATABASE_URL_VARIABLE,
            "parse": _database_url,
            "help": "The database: sqlite:///FILE, postgresql://..., or memory://.",
            "secret": False,
        }
    )
    customer_master: Path | None = _setting(
        CUSTOMER_MASTER_VARIABLE, _existing_file, "The ERP customer master (CSV or JSON)."
    )
    psa_hours: Path | None = _setting(
        PSA_HOURS_VARIABLE, _existing_file, "The PSA's approved hours, for reconciliation."
    )
    erp_receivables: Path | None = _setting(
        ERP_RECEIVABLES_VARIABLE, _existing_file, "The ERP's receivables, for reconciliation."
    )
    chart_of_accounts: Path | None = _setting(
        CHART_OF_ACCOUNTS_VARIABLE,
        _existing_file,
        "The ERP accounts per legal entity (JSON); set, journal entries are posted to the ERP.",
    )
    actor: str | None = _setting(ACTOR_VARIABLE, _text, "Who CLI commands act as.")
    api_keys: Path | None = _setting(
        API_KEYS_VARIABLE, _existing_file, "The API keys file (JSON, digests preferred)."
    )
    jwt_secret: str | None = _setting(
        JWT_SECRET_VARIABLE, _secret(32), "Accept HS256 bearer tokens signed with it.", secret=True
    )
    jwt_issuer: str = _setting(
        JWT_ISSUER_VARIABLE, _text, "The bearer tokens' issuer.", default="throughline"
    )
    jwt_audience: str = _setting(
        JWT_AUDIENCE_VARIABLE, _text, "The bearer tokens' audience.", default="throughline-api"
    )
    webhook_secrets: Path | None = _setting(
        WEBHOOK_SECRETS_VARIABLE, _existing_file, "Inbound webhook secrets per source (JSON)."
    )
    subscribers: Path | None = _setting(
        SUBSCRIBERS_VARIABLE, _existing_file, "Where outbound events go (JSON)."
    )
    event_source: str = _setting(
        EVENT_SOURCE_VARIABLE,
        _event_source,
        "The CloudEvents `source` of outbound events.",
        default=DEFAULT_EVENT_SOURCE,
    )
    relay: RelayMode = _setting(
        RELAY_VARIABLE,
        _choice(RelayMode),
        "Run the outbox relay inside each API worker.",
        default=RelayMode.OFF,
    )
    rate_limit: int = _setting(
        RATE_LIMIT_VARIABLE,
        _whole(1, "requests per minute per client and worker"),
        "Requests per minute per client and worker.",
        default=1_200,
    )
    log_format: LogFormat = _setting(
        LOG_FORMAT_VARIABLE,
        _choice(LogFormat),
        "Log lines as JSON, readable text, or auto (JSON unless on a terminal).",
        default=LogFormat.AUTO,
    )
    log_level: LogLevel = _setting(
        LOG_LEVEL_VARIABLE,
        _choice(LogLevel),
        "The least severe level logged.",
        default=LogLevel.INFO,
    )
    tracing: Tracing = _setting(
        TRACING_VARIABLE,
        _choice(Tracing),
        "OpenTelemetry tracing (needs the [otel] extra): off, otlp or console.",
        default=Tracing.OFF,
    )
    shutdown_timeout: float = _setting(
        SHUTDOWN_TIMEOUT_VARIABLE,
        _seconds,
        "Seconds a stopping server gives in-flight requests and relay batches.",
        default=20.0,
    )
    metrics_dir: Path | None = _setting(
        METRICS_DIR_VARIABLE,
        _path,
        "Where API workers share their metrics [default: a folder under var/ per server].",
    )
    future_tolerance_days: int = _setting(
        FUTURE_TOLERANCE_DAYS_VARIABLE,
        _whole(0, "days"),
        "Days after today that work, expenses, payments and issue dates may be (ADR 0025).",
        default=1,
    )

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, database_url: str | None = None
    ) -> Settings:
        """The settings the environment gives; an explicit `database_url` wins over it.
        Raises `SettingsError` on the first value that cannot be used."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field in attrs.fields(cls):
            variable, parse = field.metadata["variable"], field.metadata["parse"]
            text = env.get(variable, "").strip()
            if field.name == "database_url" and (database_url or "").strip():
                variable, text = "--database-url", (database_url or "").strip()
            elif field.name == "database_url":
                text = text or default_database_url()
            if text:
                values[field.name] = parse(variable, text)
        return cls(**values)

    def describe(self, environ: Mapping[str, str] | None = None) -> list[SettingLine]:
        """Every setting with its effective value (secrets masked, passwords in URLs too) and
        whether the environment set it."""
        env = os.environ if environ is None else environ
        lines = []
        for field in attrs.fields(type(self)):
            value = getattr(self, field.name)
            if value is None:
                shown = ""
            elif field.metadata["secret"]:
                shown = MASK
            elif field.name == "database_url":
                shown = _redact(str(value))
            else:
                shown = str(value)
            variable = field.metadata["variable"]
            lines.append(
                SettingLine(
                    variable,
                    shown,
                    "environment" if env.get(variable) else "default",
                    field.metadata["help"],
                )
            )
        return lines


@attrs.frozen
class SettingLine:
    variable: str
    value: str
    source: str
    help: str
