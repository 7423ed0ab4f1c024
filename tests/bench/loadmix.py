"""A bounded mixed HTTP load for `bench_workers`, run as its own process on loopback.

`concurrency` keep-alive connections each send a request, read the whole answer and send the
next, for `warmup + duration` seconds, then stop by themselves (every read has a timeout; a
connection finishes the request in hand, so every request sent is answered). Request number
`seq` is of the kind `MIX[seq % len(MIX)]`:

- `P`: `POST /time-entries` with one new entry, its own entry id and Idempotency-Key;
- `D`: the same connection sends one of its own earlier accepted POSTs again, same key and
  body: the answer must be the stored one, replayed (`Idempotent-Replayed: true`);
- `B`: `POST /billing-runs` committing the mix's period for one contract; consecutive billing
  requests name the same contract, so concurrent runs on different workers race for it;
- `R`: a finance read, `GET /dashboard` and `GET /invoices` in turn.

Every answer is checked (status, and that an entry was accepted); anything else is an error
and the caller treats any error as a failed run. A billing run may answer 201 (what it
committed, possibly nothing) or 409 (a concurrent run committed first; nothing stored). Only
answers inside the measured window count for the rates and latencies. It prints one JSON
object: requests, `per_s`, per kind (`requests`, `per_s`, `p50_ms`, `p99_ms`), `sent`,
`errors`, `error_samples`, the entry ids accepted, the replays checked, and the invoice ids
the billing runs reported, and its own CPU time.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import resource
import time
from collections import defaultdict
from typing import Any

import attrs

from tests.bench.loadgen import HOST, Answer, Connection, Tally, load_options, percentile

MIX = "PPRPPDPPRPPPBPPRPPPR"
KINDS = {"P": "post_time_entry", "D": "replay_time_entry", "B": "billing_run", "R": "read"}
READS = ("/dashboard", "/invoices")


@attrs.frozen
class Mix:
    """What to send: the keys, where to book time, which contracts to bill, for which period."""

    run: str
    integration_key: str
    finance_key: str
    #: (engagement id, obligation id) of the T&M engagements the entries go to.
    targets: tuple[tuple[str, str], ...]
    contracts: tuple[str, ...]
    period: str
    roles: tuple[str, ...]
    first_work_date: str

    @classmethod
    def from_json(cls, text: str) -> Mix:
        raw = json.loads(text)
        raw["targets"] = tuple(tuple(t) for t in raw["targets"])
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()})

    def to_json(self) -> str:
        return json.dumps(attrs.asdict(self))


@attrs.frozen
class Request:
    kind: str
    data: bytes
    #: The entry a time-entry POST carries (for the stored-once check).
    entry_id: str = ""


def _http(method: str, path: str, port: int, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body or method == "POST":
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Requests:
    """The bytes of each request of the mix, by sequence number."""

    def __init__(self, mix: Mix, port: int) -> None:
        self.mix, self.port = mix, port
        self._billing = itertools.count()
        self._reads = itertools.count()

    def new_entry(self, seq: int) -> Request:
        mix = self.mix
        engagement, obligation = mix.targets[seq % len(mix.targets)]
        entry_id = f"W-{mix.run}-{seq}"
        day = int(mix.first_work_date[-2:]) + seq % 20
        entry = {
            "entry_id": entry_id,
            "engagement_id": engagement,
            "obligation_id": obligation,
            # a person per request: a person's day holds at most 24 h (ADR 0025)
            "resource_id": f"R-{mix.run}-{seq}",
            "role": mix.roles[seq % len(mix.roles)],
            "work_date": f"{mix.first_work_date[:-2]}{day:02d}",
            "hours": ("7.5", "4", "1.25", "8")[seq % 4],
        }
        body = json.dumps({"entries": [entry]}, separators=(",", ":")).encode()
        headers = {"X-API-Key": mix.integration_key, "Idempotency-Key": f"w-{mix.run}-{seq}"}
        return Request("P", _http("POST", "/time-entries", self.port, headers, body), entry_id)

    def billing_run(self, seq: int) -> Request:
        mix = self.mix
        contract = mix.contracts[(next(self._billing) // 2) % len(mix.contracts)]
        body = json.dumps({"period": mix.period, "contract_ids": [contract]}).encode()
        headers = {"X-API-Key": mix.finance_key, "Idempotency-Key": f"b-{mix.run}-{seq}"}
        return Request("B", _http("POST", "/billing-runs", self.port, headers, body))

    def read(self) -> Request:
        path = READS[next(self._reads) % len(READS)]
        return Request("R", _http("GET", path, self.port, {"X-API-Key": self.mix.finance_key}))


@attrs.define
class MixTally(Tally):
    latencies: defaultdict[str, list[float]] = attrs.field(factory=lambda: defaultdict(list))
    accepted: list[str] = attrs.field(factory=list)
    replays: int = 0
    invoices: list[str] = attrs.field(factory=list)
    billing: defaultdict[int, int] = attrs.field(factory=lambda: defaultdict(int))


def _check(request: Request, status: int, fields: bytes, body: bytes, original: bytes | None,
           t: MixTally) -> str | None:  # fmt: skip
    """None when the answer is what the request must get, else what is wrong with it."""
    if request.kind == "P":
        if status != 200 or b'"status":"accepted"' not in body:
            return f"POST /time-entries: HTTP {status}: {body[:300]!r}"
        t.accepted.append(request.entry_id)
    elif request.kind == "D":
        if status != 200 or b"\r\nidempotent-replayed: true" not in fields or body != original:
            return f"repeated POST not replayed: HTTP {status}: {body[:300]!r}"
        t.replays += 1
    elif request.kind == "B":
        if status not in (201, 409):
            return f"POST /billing-runs: HTTP {status}: {body[:300]!r}"
        t.billing[status] += 1
        if status == 201:
            t.invoices.extend(json.loads(body)["invoice_ids"])
    elif status != 200:
        return f"GET: HTTP {status}: {body[:300]!r}"
    return None


async def _connection(
    port: int, requests: Requests, seqs: itertools.count[int], t: MixTally
) -> None:
    connection = Connection(port, t)
    done: list[tuple[Request, bytes]] = []  # this connection's accepted POSTs and answers
    try:
        while time.perf_counter() < t.stop_at:
            if not await connection.opened():
                continue
            seq = next(seqs)
            kind = MIX[seq % len(MIX)]
            original: bytes | None = None
            if kind == "D" and done:
                first, original = done[seq % len(done)]
                request = Request("D", first.data, first.entry_id)
            elif kind in "PD":
                request = requests.new_entry(seq)
            elif kind == "B":
                request = requests.billing_run(seq)
            else:
                request = requests.read()
            answer = await connection.ask(request.data, f"{KINDS[request.kind]}: ")
            if answer is not None:
                _counted(request, answer, original, done, t)
    finally:
        connection.close()


def _counted(request: Request, answer: Answer, original: bytes | None,
             done: list[tuple[Request, bytes]], t: MixTally) -> None:  # fmt: skip
    problem = _check(request, answer.status, answer.fields, answer.body, original, t)
    if problem is not None:
        t.error(problem)
        return
    if request.kind == "P":
        done.append((request, answer.body))
    if t.measures(answer.ended):
        t.latencies[request.kind].append(answer.ended - answer.started)


def _kind_summary(latencies: list[float], duration: float) -> dict[str, Any]:
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "per_s": round(len(ordered) / duration, 1),
        "p50_ms": round(percentile(ordered, 0.50) * 1000, 2),
        "p99_ms": round(percentile(ordered, 0.99) * 1000, 2),
    }


async def run(mix: Mix, port: int, concurrency: int, duration: float, warmup: float
              ) -> dict[str, Any]:  # fmt: skip
    started = time.perf_counter()
    tally = MixTally(started + warmup, started + warmup + duration)
    requests = Requests(mix, port)
    seqs = itertools.count()
    await asyncio.gather(*(_connection(port, requests, seqs, tally) for _ in range(concurrency)))
    counted = sum(len(v) for v in tally.latencies.values())
    return {
        "requests": counted,
        "seconds": duration,
        "per_s": round(counted / duration, 1),
        "kinds": {KINDS[k]: _kind_summary(v, duration) for k, v in sorted(tally.latencies.items())},
        "sent": tally.sent,
        "errors": tally.errors,
        "error_samples": tally.samples,
        "accepted_entry_ids": tally.accepted,
        "replays": tally.replays,
        "billing_answers": {str(k): v for k, v in sorted(tally.billing.items())},
        "invoice_ids": tally.invoices,
        "concurrency": concurrency,
        "cpu_seconds": round(_cpu_seconds(), 2),
    }


def _cpu_seconds() -> float:
    """User + system time this process has used."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = load_options(__doc__)
    parser.add_argument("--mix", required=True, help="a Mix as JSON")
    args = parser.parse_args()
    mix = Mix.from_json(args.mix)
    result = asyncio.run(run(mix, args.port, args.concurrency, args.duration, args.warmup))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
