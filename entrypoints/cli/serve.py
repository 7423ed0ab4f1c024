"""`throughline serve`: the HTTP API in one or more workers, with the outbox relay in process
unless told not to; with `--demo-keys`, the demo's keys, secrets and where its documents are."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from entrypoints.cli.support import (
    DatabaseUrlOption,
    InputError,
    VerboseOption,
    output,
    session,
)
from entrypoints.composition.container import provide_database, provide_reader
from entrypoints.composition.database import redact

# serve -------------------------------------------------------------------------------------


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    workers: Annotated[
        int, typer.Option(help="Worker processes (each with its own connections).", min=1)
    ] = 1,
    relay: Annotated[
        bool,
        typer.Option(
            "--relay/--no-relay",
            help="Run the outbox relay inside each worker (or run `throughline relay` apart).",
        ),
    ] = True,
    demo_keys: Annotated[
        bool,
        typer.Option(
            "--demo-keys",
            help="Make (once) and print an API key per role under var/, and accept them.",
        ),
    ] = False,
    database_url: DatabaseUrlOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Serve the HTTP API (OpenAPI at /schema) with uvicorn."""
    import math
    import os

    import uvicorn

    from entrypoints.http.metrics_dir import MetricsDirError, share_metrics_between_workers

    webhook_lines: list[str] = []
    with session(database_url, verbose=verbose) as s:
        try:  # before prometheus_client is first imported: it reads the variable then
            share_metrics_between_workers(s.settings.metrics_dir, port)
        except MetricsDirError as error:
            raise InputError(str(error)) from None
        from entrypoints.http import serve as http
        from entrypoints.http.metrics import worker_subscribers
        from entrypoints.workers.relay import SubscriberFileError

        provide_database().upgrade()
        os.environ["THROUGHLINE_DATABASE_URL"] = s.settings.database_url
        if relay:
            os.environ[http.RELAY_VARIABLE] = "in-process"
        else:
            os.environ.pop(http.RELAY_VARIABLE, None)
        if demo_keys:
            keys = http.demo_keys(Path("var/demo-api-keys.json"))
            keys_file = Path("var/demo-api-keys.digests.json")
            http.write_keys_file(keys, keys_file)
            os.environ[http.API_KEYS_VARIABLE] = str(keys_file)
            if "THROUGHLINE_WEBHOOK_SECRETS" not in os.environ:
                secrets_file = Path("var/demo-webhook-secrets.json")
                webhook_lines = http.write_demo_webhook_secrets(secrets_file)
                os.environ["THROUGHLINE_WEBHOOK_SECRETS"] = str(secrets_file)
        try:
            http.authenticator_from_env(os.environ)
            worker_subscribers(s.settings)  # the workers label the outbox gauges with them
        except (http.ApiConfigError, SubscriberFileError) as error:
            raise InputError(str(error)) from None
        shutdown_timeout = math.ceil(s.settings.shutdown_timeout)
        out = output()
        base = f"http://{host}:{port}"
        out.print(f"Throughline API on {base} (database {redact(s.settings.database_url)})")
        out.print(f"OpenAPI page: {base}/schema  ·  document: {base}/schema/openapi.json")
        if relay and os.environ.get("THROUGHLINE_SUBSCRIBERS"):
            out.print("The outbox relay runs in-process (THROUGHLINE_SUBSCRIBERS).")
        elif relay and s.settings.chart_of_accounts is not None:
            out.print(
                "No subscribers configured (THROUGHLINE_SUBSCRIBERS): the in-process relay "
                "posts journal entries to the ERP general ledger; other events wait in the "
                "outbox until a subscriber is."
            )
        elif relay:
            out.print(
                "No subscribers configured (THROUGHLINE_SUBSCRIBERS): outbound events wait in "
                "the outbox until one is."
            )
        if demo_keys:
            out.print("Demo API keys (send as X-API-Key):")
            for key in keys:
                scope = f" (customer {key.customer_id})" if key.customer_id else ""
                out.print(f"  {key.name:<18} {key.key}{scope}", markup=False, soft_wrap=True)
            if "THROUGHLINE_WEBHOOK_SECRETS" in os.environ and webhook_lines:
                out.print("Demo webhook secrets (POST /webhooks/{source}; docs/webhooks.md):")
                for line in webhook_lines:
                    out.print(f"  {line}", markup=False, soft_wrap=True)
            finance = next((k.key for k in keys if k.name == "finance"), None)
            hints = _document_hints(base, finance) if finance else []
            if hints:
                out.print("Documents to fetch (with the finance key):")
                for line in hints:
                    out.print(f"  {line}", markup=False, soft_wrap=True)
    uvicorn.run(
        "entrypoints.http.serve:create_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # entrypoints.composition.logs formats uvicorn's lines too; our request log replaces its
        # access log
        log_config=None,
        log_level=None,
        access_log=False,
        # SIGTERM or Ctrl-C: stop accepting, let in-flight requests finish within the bound,
        # then the app's shutdown stops the relay, which hands back what it did not publish
        timeout_graceful_shutdown=shutdown_timeout,
        # A worker is replaced when it does not answer the supervisor's ping within this bound;
        # uvicorn's 5 s default kills workers that are merely slow to start on a loaded machine
        # (seen with --workers 2 on two busy cores), and the replacement is as slow.
        timeout_worker_healthcheck=30,
    )


def _document_hints(base: str, key: str) -> list[str]:
    """Where the served database's e-invoice, PDF and Beancount file are fetched."""
    from application.context import RequestContext
    from entrypoints.demo.hints import document_hints

    ctx = RequestContext("serve", "serve-hints")
    with provide_reader()(ctx) as uow:
        return document_hints(uow, base, key)
