"""CPU time and memory of the system's processes, read from ``/proc`` (Linux).

    meter = CpuMeter({"Rasa": [pid], "backends": [pid], ...})
    meter.start(); ...run...; meter.stop()
    meter.cpu_ms()        # {"Rasa": 12345.0, ...} CPU-ms used between start and stop

CPU counts user + system time of a process and of its descendants, live ones and the
exited ones its parent has reaped (``cutime``/``cstime``), so PostgreSQL's per-connection
backends count towards the postmaster. Processes are found by the port they listen on.
"""

from __future__ import annotations

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    raw = Path(f"/proc/{pid}/stat").read_text()
    return raw[raw.rindex(")") + 2 :].split()  # fields from 3 (state) on


def _own_ticks(pid: int, reaped: bool) -> int:
    fields = _stat(pid)
    # utime stime cutime cstime are fields 14-17 (1-based); fields[] starts at field 3
    ticks = int(fields[11]) + int(fields[12])
    if reaped:
        ticks += int(fields[13]) + int(fields[14])
    return ticks


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(_stat(int(entry.name))[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    return found


def tree_ticks(pid: int) -> int:
    """CPU ticks of ``pid`` and all its descendants (live, and exited ones reaped)."""
    try:
        total = _own_ticks(pid, reaped=True)
    except OSError:
        return 0
    for child in children(pid):
        total += tree_ticks(child)
    return total


def peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def listening_pid(port: int) -> int | None:
    """The process listening on TCP ``port`` (loopback or any address)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(parts[9])
    if not inodes:
        return None
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    return int(entry.name)
        except OSError:
            continue
    return None


class CpuMeter:
    """CPU-ms per named group of processes between ``start()`` and ``stop()``."""

    def __init__(self, groups: dict[str, list[int]]) -> None:
        self.groups = {name: [p for p in pids if p] for name, pids in groups.items()}
        self.before: dict[str, int] = {}
        self.after: dict[str, int] = {}

    def _ticks(self, pid: int) -> int:
        if pid == os.getpid():  # the load generator: not the stack it started
            return _own_ticks(pid, reaped=False)
        return tree_ticks(pid)

    def _read(self) -> dict[str, int]:
        return {name: sum(self._ticks(p) for p in pids) for name, pids in self.groups.items()}

    def start(self) -> None:
        self.before = self._read()

    def stop(self) -> None:
        self.after = self._read()

    def cpu_ms(self) -> dict[str, float]:
        return {name: (self.after[name] - self.before[name]) * 1000 / TICKS for name in self.groups}

    def peak_mb(self) -> dict[str, float]:
        return {name: sum(peak_rss_mb(p) for p in pids) for name, pids in self.groups.items()}


def percentile(values: list[float], p: float) -> float:
    """The ``p``-th percentile of ``values`` (seconds) in milliseconds; NaN for none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


def machine() -> str:
    """The load average and CPU count, printed with every table."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"
