"""A bounded HTTP/1.1 load generator for `bench_http`, run as its own process on loopback.

`concurrency` keep-alive connections each send a request, read the whole answer and send the
next, for `warmup + duration` seconds; then it stops by itself (every read has a timeout).
Only answers that arrive inside the measured window (after the warm-up) count for the rate
and the latencies. Every answer is checked: an unexpected status, a body without the expected
text, a broken connection or an answer slower than the timeout is an error, and the caller
treats any error as a failed run.

The caller describes the requests (`Spec`): `{seq}` anywhere in the path, a header value or a
body template is replaced by a number unique to the request, so each POST carries its own
entry id and Idempotency-Key; body templates are used in turn. It prints one JSON object:
requests counted, `per_s`, `p50_ms`, `p99_ms`, `max_ms`, requests `sent`, `errors` and a few
`error_samples`.

    python -m tests.bench.loadgen --port 8000 --spec '{"method": "GET", "path": "/"}'
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import attrs

HOST = "127.0.0.1"
#: The longest any one answer may take before it counts as an error.
REQUEST_TIMEOUT = 10.0
MAX_SAMPLES = 5


@attrs.frozen
class Spec:
    method: str
    path: str
    headers: dict[str, str] = attrs.field(factory=dict)
    bodies: tuple[str, ...] = ()
    expect: int = 200
    #: Text every answer's body must contain (e.g. that the one entry sent was accepted).
    expect_in: str = ""

    @classmethod
    def from_json(cls, text: str) -> Spec:
        raw = json.loads(text)
        return cls(
            raw["method"],
            raw["path"],
            dict(raw.get("headers", {})),
            tuple(raw.get("bodies", ())),
            int(raw.get("expect", 200)),
            str(raw.get("expect_in", "")),
        )

    def to_json(self) -> str:
        return json.dumps(attrs.asdict(self))


def renderer(spec: Spec, port: int) -> Callable[[int], bytes]:
    """The bytes of request number `seq` (templates split once, joined per request)."""
    line = spec.path.split("{seq}")
    headers = [(name, value.split("{seq}")) for name, value in spec.headers.items()]
    bodies = [body.split("{seq}") for body in spec.bodies]
    fixed = f"Host: {HOST}:{port}\r\n"

    def render(seq: int) -> bytes:
        s = str(seq)
        head = [f"{spec.method} {s.join(line)} HTTP/1.1\r\n", fixed]
        head.extend(f"{name}: {s.join(value)}\r\n" for name, value in headers)
        if not bodies:
            return "".join([*head, "\r\n"]).encode()
        body = s.join(bodies[seq % len(bodies)]).encode()
        head.append(f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
        return "".join(head).encode() + body

    return render


async def read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes, bytes, bool]:
    """(status, header fields in lower case, body, whether the server closes the
    connection) of one whole answer."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    fields = head.lower()
    close = b"\r\nconnection: close" in fields
    at = fields.find(b"\r\ncontent-length:")
    if at >= 0:
        end = fields.index(b"\r\n", at + 2)
        return status, fields, await reader.readexactly(int(fields[at + 17 : end])), close
    if b"\r\ntransfer-encoding: chunked" in fields:
        chunks = []
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            chunks.append((await reader.readexactly(size + 2))[:-2])
        while await reader.readuntil(b"\r\n") != b"\r\n":
            pass  # trailer fields
        return status, fields, b"".join(chunks), close
    if status in (204, 304) or 100 <= status < 200:
        return status, fields, b"", close
    raise ValueError("an answer without Content-Length or chunked encoding")


@attrs.define
class Tally:
    """What a load's connections counted: requests sent, errors and a few of them."""

    window_start: float
    stop_at: float
    sent: int = 0
    errors: int = 0
    samples: list[str] = attrs.field(factory=list)

    def error(self, what: str) -> None:
        self.errors += 1
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append(what)

    def measures(self, ended: float) -> bool:
        """An answer that ended then counts for the rates and latencies."""
        return self.window_start <= ended <= self.stop_at


@attrs.define
class Latencies(Tally):
    latencies: list[float] = attrs.field(factory=list)


class Answer(NamedTuple):
    status: int
    #: The header fields in lower case.
    fields: bytes
    body: bytes
    started: float
    ended: float


class Connection:
    """One keep-alive connection to the server under load, opened again whenever it broke or
    the server closed it; its failures are errors of the tally."""

    def __init__(self, port: int, tally: Tally) -> None:
        self.port, self.tally = port, tally
        self._open: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def opened(self) -> bool:
        """Open, or opened now; False (after a short pause) when the server did not answer."""
        if self._open is not None:
            return True
        try:
            self._open = await asyncio.wait_for(
                asyncio.open_connection(HOST, self.port), REQUEST_TIMEOUT
            )
        except (OSError, TimeoutError) as error:
            self.tally.error(f"connect: {type(error).__name__}: {error}")
            await asyncio.sleep(0.05)
            return False
        return True

    async def ask(self, request: bytes, what: str = "") -> Answer | None:
        """Sends one request on the open connection and reads its whole answer; None when the
        answer broke or was late (an error named `what`, and the connection is closed)."""
        if self._open is None:
            raise RuntimeError("ask on a connection that is not open")
        reader, writer = self._open
        started = time.perf_counter()
        writer.write(request)
        self.tally.sent += 1
        try:
            status, fields, body, close = await asyncio.wait_for(
                read_answer(reader), REQUEST_TIMEOUT
            )
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as error:
            self.tally.error(f"{what}{type(error).__name__}: {error}")
            self.close()
            return None
        ended = time.perf_counter()
        if close:
            self.close()
        return Answer(status, fields, body, started, ended)

    def close(self) -> None:
        if self._open is not None:
            self._open[1].close()
        self._open = None


async def _connection(
    port: int, render: Callable[[int], bytes], spec: Spec, seqs: itertools.count[int],
    t: Latencies,
) -> None:  # fmt: skip
    expect, needle = spec.expect, spec.expect_in.encode()
    connection = Connection(port, t)
    try:
        while time.perf_counter() < t.stop_at:
            if not await connection.opened():
                continue
            answer = await connection.ask(render(next(seqs)))
            if answer is None:
                continue
            if answer.status != expect or needle not in answer.body:
                t.error(f"HTTP {answer.status}: {answer.body[:400].decode(errors='replace')}")
            elif t.measures(answer.ended):
                t.latencies.append(answer.ended - answer.started)
    finally:
        connection.close()


def percentile(ordered: list[float], q: float) -> float:
    """Nearest rank of an ordered list."""
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


async def run(
    spec: Spec, port: int, concurrency: int, duration: float, warmup: float, first_seq: int = 0
) -> dict[str, Any]:
    started = time.perf_counter()
    tally = Latencies(started + warmup, started + warmup + duration)
    render = renderer(spec, port)
    seqs = itertools.count(first_seq)
    await asyncio.gather(
        *(_connection(port, render, spec, seqs, tally) for _ in range(concurrency))
    )
    ordered = sorted(tally.latencies)
    return {
        "requests": len(ordered),
        "seconds": duration,
        "per_s": round(len(ordered) / duration, 1),
        "p50_ms": round(percentile(ordered, 0.50) * 1000, 2),
        "p99_ms": round(percentile(ordered, 0.99) * 1000, 2),
        "max_ms": round((ordered[-1] if ordered else math.nan) * 1000, 2),
        "sent": tally.sent,
        "errors": tally.errors,
        "error_samples": tally.samples,
        "concurrency": concurrency,
    }


def load_options(description: str | None) -> argparse.ArgumentParser:
    """The options of every load run on loopback: the server's port, how many connections,
    and how long they warm up and are measured."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    return parser


def main() -> None:
    parser = load_options(__doc__)
    parser.add_argument("--spec", required=True, help="a Spec as JSON")
    parser.add_argument("--first-seq", type=int, default=0)
    args = parser.parse_args()
    result = asyncio.run(
        run(
            Spec.from_json(args.spec),
            args.port,
            args.concurrency,
            args.duration,
            args.warmup,
            args.first_seq,
        )
    )
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
