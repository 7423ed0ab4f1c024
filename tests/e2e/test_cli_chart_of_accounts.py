"""Start-up with a chart of accounts (ADR 0033): a mapping that is wrong stops the command with
what is wrong, before anything is done; a good one lets the commands run."""

from __future__ import annotations

import json
from pathlib import Path

from adapters.chart_of_accounts import DEFAULT_CHARTS
from tests.e2e.cli_harness import InProcess


def test_a_mapping_without_an_account_for_a_role_stops_start_up_naming_it(
    memory_cli: InProcess, tmp_path: Path
) -> None:
    document = json.loads(DEFAULT_CHARTS.read_text(encoding="utf-8"))
    del document["charts"][1]["accounts"]["cash"]
    broken = tmp_path / "charts.json"
    broken.write_text(json.dumps(document), encoding="utf-8")
    done = memory_cli(
        "bill", "--period", "2026-07", env={"THROUGHLINE_CHART_OF_ACCOUNTS": str(broken)}
    )
    assert done.code == 2, done.text
    assert "chart of accounts of HR-US" in done.err
    assert "no account for the posting roles cash" in done.err


def test_the_shipped_mapping_lets_the_commands_run(memory_cli: InProcess) -> None:
    done = memory_cli(
        "bill", "--period", "2026-07", env={"THROUGHLINE_CHART_OF_ACCOUNTS": str(DEFAULT_CHARTS)}
    )
    assert done.code == 0, done.text
