"""A webhook subscriber for `bench_workers`, run as its own process on loopback: it takes every
POST (answering 204) and counts what it received by path and `webhook-id`, so each subscriber
(one path each) can be checked to have received every event exactly once.

`GET /received` answers `{"<path>": {"<event id>": times received, ...}, ...}`. It stops on
SIGTERM or when its parent dies.

    python -m tests.bench.sink --port 8900
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from collections import Counter, defaultdict

from tests.bench.loadgen import HOST

NO_CONTENT = b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n"


class Received:
    """Event ids by subscriber path, with how many times each came."""

    def __init__(self) -> None:
        self.by_path: defaultdict[str, Counter[str]] = defaultdict(Counter)

    def answer(self) -> bytes:
        body = json.dumps({path: dict(ids) for path, ids in self.by_path.items()}).encode()
        head = f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(body)}"
        return head.encode() + b"\r\n\r\n" + body


async def _serve(
    received: Received, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            method, path, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
            fields = dict(
                line.split(":", 1)
                for line in head.decode("latin-1").lower().split("\r\n")[1:]
                if ":" in line
            )
            length = int(fields.get("content-length", "0"))
            if length:
                await reader.readexactly(length)
            if method == "GET" and path == "/received":
                writer.write(received.answer())
            else:
                received.by_path[path][fields.get("webhook-id", "").strip()] += 1
                writer.write(NO_CONTENT)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def run(port: int) -> None:
    received = Received()
    server = await asyncio.start_server(
        lambda r, w: _serve(received, r, w), HOST, port, reuse_address=True
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with server:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(run(parser.parse_args().port))


if __name__ == "__main__":
    main()
