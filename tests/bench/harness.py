"""What every benchmark shares: seeded data, repeated timing with the median, and one line
per workload (`name  throughline=…/s  floor=…/s  ratio=…`) also written to a JSON file.

Absolute numbers on a shared machine are context; the ratio against a floor measured in the
same run is the result.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import attrs

RESULTS = Path("var/bench")


@attrs.frozen
class Measurement:
    workload: str
    units: int
    throughline_seconds: float
    floor_seconds: float
    extra: dict[str, Any] = attrs.field(factory=dict)

    @property
    def throughline_rate(self) -> float:
        return self.units / self.throughline_seconds

    @property
    def floor_rate(self) -> float:
        return self.units / self.floor_seconds

    @property
    def ratio(self) -> float:
        return self.throughline_rate / self.floor_rate

    def line(self) -> str:
        extra = "".join(f"  {k}={v}" for k, v in self.extra.items())
        return (
            f"{self.workload:<34} throughline={self.throughline_rate:,.0f}/s  "
            f"floor={self.floor_rate:,.0f}/s  ratio={self.ratio:.2f}{extra}"
        )


def arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="CI-sized run: checks it completes")
    parser.add_argument("--repeats", type=int, default=3)
    return parser.parse_args()


def report(measurements: list[Measurement], name: str) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    for m in measurements:
        print(m.line(), flush=True)
    payload = [
        {
            "workload": m.workload,
            "units": m.units,
            "throughline_per_s": round(m.throughline_rate, 1),
            "floor_per_s": round(m.floor_rate, 1),
            "ratio": round(m.ratio, 3),
            **m.extra,
        }
        for m in measurements
    ]
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2) + "\n")
