"""CPU seconds spent by a process tree, by process kind: where a benchmark round's time went."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, user+system CPU seconds) of a live process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICKS


def _kind(pid: int) -> str:
    """A short name: `bench`, `temporal`, `postgres`, `valkey`, or the `saga ...` subcommand."""
    if pid == os.getpid():
        return "bench"
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except OSError:
        return "?"
    joined = " ".join(argv)
    for name in ("temporal", "postgres", "valkey"):
        if name in Path(argv[0]).name:
            return name
    if "-m saga" in joined:
        rest = joined.split("-m saga", 1)[1].split()
        return "saga " + " ".join(rest[:2]) if rest else "saga"
    return Path(argv[0]).name


def tree_cpu(root: int) -> Counter[str]:
    """CPU milliseconds so far of `root` and all its descendants, summed by kind."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (found := _stat(int(entry.name))) is not None:
            parents[int(entry.name)], cpu[int(entry.name)] = found
    members = {root}
    grew = True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in members and pid not in members:
                members.add(pid)
                grew = True
    totals: Counter[str] = Counter()
    for pid in members:
        # Counter holds ints by its stubs; whole milliseconds are precise enough here.
        totals[_kind(pid)] += round(cpu.get(pid, 0.0) * 1000)
    return totals
