"""Where the worker processes of one server share their metrics (ADR 0022).

`throughline serve --workers N` runs N processes, each counting its own requests. In
prometheus_client's multiprocess mode every process writes its counters to memory-mapped
files in one directory, and `/metrics` adds up the files of all of them, so the answer is the
same whichever worker is asked.

prometheus_client chooses where values live (in memory or in those files) once, when it is
first imported, from `PROMETHEUS_MULTIPROC_DIR`. So the serve command prepares the directory
and sets the variable before anything imports prometheus_client; this module must not
import it either.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from pathlib import Path

from entrypoints.composition.settings import METRICS_DIR_VARIABLE

MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
#: The directory of a server that names none: one per port, so two servers on one machine
#: never add up each other's requests.
DEFAULT_PARENT = Path("var") / "metrics"
#: What prometheus_client writes there (`counter_<pid>.db`, `histogram_<pid>.db`, ...).
METRIC_FILES = "*.db"


class MetricsDirError(ValueError):
    """The metrics directory cannot be prepared; the message names it and why."""


def default_metrics_dir(port: int) -> Path:
    return DEFAULT_PARENT / str(port)


def prepare_metrics_dir(configured: Path | None, port: int) -> Path:
    """The directory (created if missing) with the metric files of any earlier server removed,
    so counting starts from zero; other files in it are left alone."""
    directory = configured if configured is not None else default_metrics_dir(port)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob(METRIC_FILES):
            stale.unlink()
    except OSError as error:
        raise MetricsDirError(
            f"{METRICS_DIR_VARIABLE}: cannot prepare {directory} for the workers' metrics "
            f"({error.strerror or error})"
        ) from None
    return directory.resolve()


def share_metrics_between_workers(
    configured: Path | None, port: int, environ: MutableMapping[str, str] | None = None
) -> Path:
    """Prepare the directory and name it to the worker processes (which inherit `environ`);
    call it before prometheus_client is imported."""
    directory = prepare_metrics_dir(configured, port)
    (os.environ if environ is None else environ)[MULTIPROCESS_VARIABLE] = str(directory)
    return directory
