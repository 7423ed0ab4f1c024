"""`make run` as a newcomer meets it: the demo loaded, then `throughline serve --demo-keys`
prints where to fetch an e-invoice, a PDF, a credit note and the Beancount journal; every line
it prints is run against the real server and gives what it says, and the journal entries come
back with the ERP's document numbers although no webhook subscriber is named."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import time
from pathlib import Path

import httpx

from tests.e2e.cli_harness import ROOT
from tests.support.server import THROUGHLINE, served

WAIT_SECONDS = 20.0


def fetch(command: str) -> tuple[httpx.Response, str]:
    """One printed curl line, sent with httpx: its headers and URL; the file it names."""
    words = shlex.split(command)
    headers = dict(
        tuple(part.strip() for part in words[i + 1].split(":", 1))
        for i, word in enumerate(words)
        if word == "-H"
    )
    url = next(word for word in words if word.startswith("http"))
    target = words[words.index("-o") + 1]
    return httpx.get(url, headers=headers, timeout=30.0), target


def test_the_served_demo_says_where_its_documents_are_and_every_line_works(
    tmp_path: Path,
) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("THROUGHLINE_")},
        "THROUGHLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
        "THROUGHLINE_CHART_OF_ACCOUNTS": str(ROOT / "adapters" / "charts_of_accounts.json"),
    }
    loaded = subprocess.run(
        [str(THROUGHLINE), "demo"], cwd=tmp_path, env=env, capture_output=True, timeout=300
    )
    assert loaded.returncode == 0, loaded.stderr.decode()

    with served(tmp_path, env, "--demo-keys", separate_errors=True) as server:
        printed = server.output.read_text(encoding="utf-8")
        assert "Documents to fetch (with the finance key):" in printed
        commands = [
            line.strip() for line in printed.splitlines() if line.strip().startswith("curl")
        ]
        kinds = {}
        for command in commands:
            answer, target = fetch(command)
            assert answer.status_code == 200, (command, answer.text)
            kinds[target.rsplit(".", 1)[1]] = answer.content
            (tmp_path / target).write_bytes(answer.content)
        assert set(kinds) == {"xml", "pdf", "beancount"}
        assert kinds["xml"].startswith(b"<?xml")
        assert kinds["pdf"].startswith(b"%PDF-")
        checked = subprocess.run(
            [str(THROUGHLINE.with_name("bean-check")), str(tmp_path / "journal.beancount")],
            capture_output=True,
            timeout=120,
        )
        assert checked.returncode == 0, checked.stderr.decode()

        keys = json.loads((tmp_path / "var/demo-api-keys.json").read_text(encoding="utf-8"))
        key = next(k["key"] for k in keys if k["name"] == "finance")
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            entries = httpx.get(
                f"{server.base}/journal-entries", headers={"X-API-Key": key}, timeout=10.0
            ).json()["items"]
            if entries and all(e["erp_document"] for e in entries):
                break
            assert time.monotonic() < deadline, "the ERP acknowledgements did not come back"
            time.sleep(0.2)
