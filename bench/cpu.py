"""CPU time spent by a process tree, by process kind: where a benchmark round's time went."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import psutil  # type: ignore[import-untyped]


def _kind(process: psutil.Process) -> str:
    """A short name: `bench`, `temporal`, `postgres`, `valkey`, or the `saga ...` subcommand."""
    if process.pid == os.getpid():
        return "bench"
    argv = process.cmdline()
    for name in ("temporal", "postgres", "valkey"):
        if argv and name in Path(argv[0]).name:
            return name
    joined = " ".join(argv)
    if "-m bench." in joined:
        return joined.split("-m bench.", 1)[1].split()[0]
    if "-m saga" in joined:
        rest = joined.split("-m saga", 1)[1].split()
        return "saga " + " ".join(rest[:2]) if rest else "saga"
    return str(process.name())


def tree_cpu(root: int) -> Counter[str]:
    """CPU milliseconds so far of `root` and all its descendants, summed by kind."""
    parent = psutil.Process(root)
    totals: Counter[str] = Counter()
    for process in (parent, *parent.children(recursive=True)):
        try:
            user, system = process.cpu_times()[:2]
            # Counter holds ints by its stubs; whole milliseconds are precise enough here.
            totals[_kind(process)] += round((user + system) * 1000)
        except psutil.Error:
            continue  # it ended between the listing and the reading
    return totals
