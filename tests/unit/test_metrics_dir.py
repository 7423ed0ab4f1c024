"""The directory where a server's workers share their metrics starts empty of old counts, is
one per port by default, and is named to the workers before prometheus_client is loaded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from entrypoints.http.metrics_dir import (
    MULTIPROCESS_VARIABLE,
    MetricsDirError,
    default_metrics_dir,
    prepare_metrics_dir,
    share_metrics_between_workers,
)

ROOT = Path(__file__).resolve().parents[2]


def test_a_restarted_server_counts_from_zero_and_keeps_files_it_did_not_write(
    tmp_path: Path,
) -> None:
    shared = tmp_path / "metrics"
    shared.mkdir()
    (shared / "counter_4242.db").write_bytes(b"old counts")
    (shared / "histogram_4242.db").write_bytes(b"old latencies")
    (shared / "README").write_text("the operator's note")
    assert prepare_metrics_dir(shared, 8000) == shared.resolve()
    assert sorted(p.name for p in shared.iterdir()) == ["README"]


def test_without_a_setting_each_port_gets_its_own_folder_under_var(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert prepare_metrics_dir(None, 8123) == (tmp_path / "var" / "metrics" / "8123").resolve()
    assert default_metrics_dir(8124) != default_metrics_dir(8123)
    assert (tmp_path / "var" / "metrics" / "8123").is_dir()


def test_a_directory_that_cannot_be_made_is_named_in_the_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(MetricsDirError, match="THROUGHLINE_METRICS_DIR: cannot prepare"):
        prepare_metrics_dir(blocker / "metrics", 8000)


def test_the_workers_inherit_the_directory_through_the_environment(tmp_path: Path) -> None:
    environ: dict[str, str] = {}
    directory = share_metrics_between_workers(tmp_path / "m", 8000, environ)
    assert environ == {MULTIPROCESS_VARIABLE: str(directory)}


def test_the_command_line_loads_without_prometheus_client() -> None:
    """`throughline serve` names the directory before prometheus_client is first imported,
    since prometheus_client picks where values live at import; the CLI's own imports must not
    load it first."""
    probe = (
        "import sys, entrypoints.cli, entrypoints.http.metrics_dir; "
        "sys.exit('prometheus_client' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if k != MULTIPROCESS_VARIABLE}
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, timeout=60, check=False)
    assert done.returncode == 0
