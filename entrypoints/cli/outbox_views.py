"""How the CLI prints the outbox: dead events and what a relay run did."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console

from adapters.outbound.cloudevents_envelope import cloudevent_type
from application.records import OutboxEvent
from application.relay import RelayReport
from entrypoints.demo.report import print_listing, titled_table


def render_dead_events(console: Console, events: Sequence[OutboxEvent]) -> None:
    """Dead events, oldest first, with why the last attempt failed."""
    if not events:
        console.print("Dead outbox events: none.")
        return
    table = titled_table("Dead outbox events", "Event id", "Type", "Subject", "Tries", "Occurred")
    for event in events:
        table.add_row(
            event.event_id,
            cloudevent_type(event.aggregate_type, event.event_type),
            event.aggregate_id,
            str(event.attempts),
            f"{event.occurred_at:%Y-%m-%d %H:%M} UTC",
        )
    notes = (
        f"  {event.event_id}: {event.last_error or 'no error recorded'} "
        f"(correlation id {event.correlation_id})"
        for event in events
    )
    print_listing(console, table, notes)
    console.print(
        "Each holds back the later events of its aggregate: "
        "`throughline outbox replay EVENT_ID --reason TEXT` sends it again under the same id."
    )


def relay_line(worker: str, totals: RelayReport) -> str:
    line = (
        f"Relay {worker}: {totals.delivered} delivered, {totals.failed} failed "
        f"(retry scheduled), {totals.dead} dead"
    )
    if totals.lost:
        line += f", {totals.lost} handed back by the reaper meanwhile (delivered again later)"
    return line + "."
