"""The HTTP floor: a Litestar hello-world JSON endpoint, served exactly like the API
(`uvicorn --factory tests.bench.hello:create_app`, same worker count) by `bench_http`."""

from __future__ import annotations

from litestar import Litestar, get


@get("/")
async def hello() -> dict[str, str]:
    return {"hello": "world"}


def create_app() -> Litestar:
    return Litestar([hello])
