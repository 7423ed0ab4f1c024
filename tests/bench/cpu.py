"""Where the CPU went during a benchmark, per group of processes, from /proc (Linux).

A `CpuClock` is read at the start and the end of a window; the seconds each group used are
the differences of user + system time of its processes (a process that started inside the
window counts from zero; one that ended inside it is lost, which the benches avoid by keeping
their processes up). The machine's busy time over the same window gives what the groups did
not use: other work on the machine.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import attrs

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
PROC = Path("/proc")


def process_ticks(pid: int) -> int:
    """User + system clock ticks of one process (0 when it is gone)."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return 0
    fields = stat[stat.rindex(")") + 2 :].split()  # after the command name, which may hold spaces
    return int(fields[11]) + int(fields[12])


def descendants(pid: int) -> set[int]:
    """The process and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        current = todo.pop()
        found.add(current)
        todo.extend(children.get(current, ()))
    return found


def machine_busy_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of every CPU since boot."""
    values = [int(v) for v in (PROC / "stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


#: A group's processes, found afresh at each reading (workers and backends come and go).
Group = Callable[[], Iterable[int]]


@attrs.frozen
class Reading:
    per_group: Mapping[str, Mapping[int, int]]
    busy: int
    total: int


@attrs.frozen
class CpuClock:
    groups: Mapping[str, Group]

    def read(self) -> Reading:
        per_group = {
            name: {pid: process_ticks(pid) for pid in find()} for name, find in self.groups.items()
        }
        busy, total = machine_busy_ticks()
        return Reading(per_group, busy, total)

    @staticmethod
    def split(start: Reading, end: Reading) -> dict[str, float]:
        """CPU seconds per group between two readings, `other` (the rest of the machine's
        busy time) and `wall_cpu` (the CPU seconds the machine had: wall time x cores)."""
        seconds: dict[str, float] = {}
        for name, pids in end.per_group.items():
            before = start.per_group.get(name, {})
            used = sum(ticks - before.get(pid, 0) for pid, ticks in pids.items())
            seconds[name] = round(max(used, 0) / TICKS, 2)
        busy = (end.busy - start.busy) / TICKS
        seconds["other"] = round(max(busy - sum(seconds.values()), 0.0), 2)
        seconds["wall_cpu"] = round((end.total - start.total) / TICKS, 2)
        return seconds
