"""The OpenAPI page at `/schema` needs no host but this app: Swagger UI's files come from the
installed `swagger-ui-py` package, served by the app itself.

In process, the page's references are checked and fetched; then a real server is started and
headless Chromium renders the page with every other host unresolvable.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from entrypoints.http.openapi_page import assets_path
from tests.e2e.http.harness import Api
from tests.support.server import served as serving

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_SECONDS = 90
#: Operations the rendered page must show (Swagger UI writes them as `data-path`).
KNOWN_PATHS = ("/invoices", "/invoices/{invoice_id}", "/contracts", "/health")
_CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")\s]+)")


class References(HTMLParser):
    """Every `src=`/`href=` and CSS `url(` of a page, and the text of its inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.scripts: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and name in ("src", "href"):
                self.urls.append(value)
            if value and name == "style":
                self.urls.extend(_CSS_URL.findall(value))
        self._in = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "style":
            self.urls.extend(_CSS_URL.findall(data))
        elif self._in == "script" and data.strip():
            self.scripts.append(data)


def references(page: str) -> References:
    parser = References()
    parser.feed(page)
    parser.close()
    return parser


def external(url: str, own_host: str) -> bool:
    """On another host: an absolute or protocol-relative URL whose host is not the app's."""
    netloc = urlsplit(url).netloc
    return bool(netloc) and netloc != own_host


# -- in process ---------------------------------------------------------------------------


def test_the_page_refers_to_nothing_outside_the_app(api: Api) -> None:
    response = api.client.get("/schema")  # no credential: the page is public

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    found = references(response.text)
    own_host = urlsplit(str(response.url)).netloc
    assert found.urls, "the page names no asset"
    assert [url for url in found.urls if external(url, own_host)] == []
    # the inline configuration names no URL with a scheme and turns the online validator off
    assert found.scripts
    assert not any(re.search(r"://|[\"']//", script) for script in found.scripts)
    assert any('"validatorUrl": null' in script for script in found.scripts)


def test_every_asset_the_page_names_is_served_by_the_app(api: Api) -> None:
    found = references(api.client.get("/schema").text)
    kinds = {".js": "javascript", ".css": "text/css", ".png": "image/png"}

    served = {}
    for url in found.urls:
        path = urlsplit(url).path
        response = api.client.get(path)
        kind = kinds[Path(path).suffix]
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text[:200]}"
        assert kind in response.headers["content-type"], (path, response.headers["content-type"])
        assert "immutable" in response.headers["cache-control"]
        assert "max-age=31536000" in response.headers["cache-control"]
        assert response.headers["x-correlation-id"]  # through the middleware like any route
        served[Path(path).name] = len(response.content)
    assert served.keys() == {
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
        "swagger-ui.css",
        "favicon-32x32.png",
    }
    assert served["swagger-ui-bundle.js"] > 500_000
    assert served["swagger-ui-standalone-preset.js"] > 50_000
    assert served["swagger-ui.css"] > 50_000
    assert served["favicon-32x32.png"] > 500


def test_the_page_loads_the_document_the_app_serves(api: Api) -> None:
    script = "".join(references(api.client.get("/schema").text).scripts)
    url = re.search(r'"url": "([^"]+)"', script)

    assert url is not None
    assert url.group(1) == "/schema/openapi.json"
    document = api.client.get(url.group(1))
    assert document.status_code == 200
    assert "/invoices" in document.json()["paths"]


@pytest.mark.parametrize(
    "name",
    ["swagger-editor-bundle.js", "swagger-ui-bundle.js.map", "index.css", "oauth2-redirect.html"],
)
def test_only_the_pages_own_files_are_served(api: Api, name: str) -> None:
    assert api.client.get(f"{assets_path()}/{name}").status_code == 404


@pytest.mark.parametrize("tail", ["", "/", "/../static/swagger-ui.css", "/..%2Fswagger-ui.css"])
def test_the_assets_folder_is_not_listed_nor_escaped(api: Api, tail: str) -> None:
    response = api.client.get(f"{assets_path()}{tail}")

    assert response.status_code == 404
    assert "swagger-ui-bundle.js" not in response.text


# -- a real server and a real browser ------------------------------------------------------


@pytest.fixture
def browser() -> Path:
    """Headless Chromium; skipped where it is missing, but a failure on CI (which installs it)."""
    if CHROMIUM.exists():
        return CHROMIUM
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing; CI installs it (.ci/run, install_chromium)")
    pytest.skip(f"needs headless Chromium at {CHROMIUM} (Debian package `chromium`)")


@pytest.fixture
def served_page(tmp_path: Path) -> Iterator[str]:
    """A real `throughline serve` on a free loopback port and a fresh SQLite file; its base URL."""
    env = {**os.environ, "THROUGHLINE_DATABASE_URL": f"sqlite:///{tmp_path / 't.db'}"}
    with serving(tmp_path, env, "--no-relay") as server:
        yield server.base


def render(browser: Path, url: str, profile: Path) -> str:
    """The DOM of `url` after Swagger UI ran, with every host but 127.0.0.1 unresolvable."""
    command = [
        str(browser),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        "--virtual-time-budget=10000",
        "--dump-dom",
        url,
    ]
    # its own process group, so a browser that hangs is stopped with its helper processes
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=BROWSER_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"Chromium did not finish within {BROWSER_SECONDS} s")
    assert process.returncode == 0, err.decode(errors="replace")[-2000:]
    return out.decode()


def test_chromium_renders_the_operations_with_no_other_host_reachable(
    browser: Path, served_page: str, tmp_path: Path
) -> None:
    dom = render(browser, f"{served_page}/schema", tmp_path / "chromium-profile")

    assert 'class="opblock' in dom, dom[:2000]
    for path in KNOWN_PATHS:
        assert f'data-path="{path}"' in dom, path
    assert "Failed to load API definition" not in dom
