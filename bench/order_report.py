"""What bench/order_saga.py prints: medians, ratios to the floor, CPU per order, troubles."""

from __future__ import annotations

import argparse
import base64
import json
import statistics
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from prometheus_client.parser import text_string_to_metric_families

if TYPE_CHECKING:
    from bench.order_saga import Round


@dataclass
class Case:
    """One measured case: what one call does, how many, how many at once, its rounds."""

    name: str
    one: Callable[[int], Awaitable[None]]
    count: int
    concurrency: int
    rounds: list[Round] = field(default_factory=list)

    def median(self, figure: str) -> float:
        """The median over rounds of `throughput`, `p50_ms` or `p99_ms`."""
        return float(statistics.median(float(getattr(r, figure)) for r in self.rounds))


# The goals of issue 16, each a ratio to the plain floor of the same run:
# (case, its figure, floor case, floor figure, bound, "max" or "min").
GOALS = (
    (
        "saga, one at a time, WebSocket",
        "p50_ms",
        "plain floor, one at a time",
        "p50_ms",
        1.2,
        "max",
    ),
    (
        "saga, concurrent, WebSocket",
        "throughput",
        "plain floor, concurrent",
        "throughput",
        0.9,
        "min",
    ),
    ("saga, concurrent, WebSocket", "p99_ms", "plain floor, concurrent", "p99_ms", 1.5, "max"),
    (
        "saga, concurrent, polling 50 ms",
        "throughput",
        "plain floor, concurrent",
        "throughput",
        0.8,
        "min",
    ),
    (
        "saga, concurrent, long-poll",
        "throughput",
        "plain floor, concurrent",
        "throughput",
        0.8,
        "min",
    ),
)


def report_troubles(cases: list[Case], dropped: Counter[str]) -> None:
    """Print the connections dropped (and resent) and the runs lost, if any."""
    if dropped:
        print(f"dropped connections, resent with the same Idempotency-Key: {dict(dropped)}")
    for case in cases:
        lost = sum((r.lost for r in case.rounds), Counter[str]())
        if lost:
            print(f"{case.name}: lost (left out of the figures): {sum(lost.values())}")
            for reason, times in lost.most_common(5):
                print(f"  {times} x {reason}")


def report_order_reads(metrics: str) -> None:
    """Print where the edge's plain `GET /orders/{id}` answers came from (the pollers' hit rate)."""
    sources = {
        sample.labels["source"]: sample.value
        for family in text_string_to_metric_families(metrics)
        if family.name == "saga_edge_order_reads"
        for sample in family.samples
        if sample.name.endswith("_total")
    }
    cached, read = sources.get("cache", 0.0), sources.get("ledger", 0.0)
    if cached + read:
        print(
            f"GET /orders/{{id}} answers: {cached:.0f} from the cache, {read:.0f} read from "
            f"the ledger ({cached / (cached + read):.0%} from the cache)"
        )


def report(cases: list[Case], args: argparse.Namespace) -> None:
    """Print each case's medians over rounds, the goals' ratios, and CPU per order."""
    by_name = {case.name: case for case in cases}
    print(f"medians of {args.rounds} rounds")
    print(f"{'':34}{'runs':>6}{'at once':>8}{'per s':>8}{'p50 ms':>9}{'p99 ms':>9}")
    for case in cases:
        print(
            f"{case.name:34.34}{case.count:6}{case.concurrency:8}{case.median('throughput'):8.1f}"
            f"{case.median('p50_ms'):9.1f}{case.median('p99_ms'):9.1f}"
        )
    print("goals, as ratios to the plain floor of the same run:")
    for name, figure, floor, floor_figure, bound, kind in GOALS:
        if name not in by_name or floor not in by_name:
            continue
        ratio = by_name[name].median(figure) / by_name[floor].median(floor_figure)
        met = ratio <= bound if kind == "max" else ratio >= bound
        sign = "<=" if kind == "max" else ">="
        print(
            f"  {name} {figure}: {ratio:.2f}x (goal {sign} {bound}) {'met' if met else 'NOT met'}"
        )
    print("CPU ms per run by process (medians; the floors' worker is `floor_worker`):")
    kinds = sorted({k for c in cases for r in c.rounds for k in r.cpu})
    print(f"  {'':34}" + "".join(f"{k[:12]:>13}" for k in kinds))
    for case in cases:
        cells = [statistics.median(r.cpu[k] for r in case.rounds) / case.count for k in kinds]
        print(f"  {case.name:34.34}" + "".join(f"{ms:13.1f}" for ms in cells))


def _ms(start: str, end: str) -> float:
    from datetime import datetime

    def parse(at: str) -> datetime:
        # RFC 3339 with nanoseconds: keep microseconds for fromisoformat.
        head, _, frac = at.rstrip("Z").partition(".")
        return datetime.fromisoformat(f"{head}.{(frac + '000000')[:6]}+00:00")

    return (parse(end) - parse(start)).total_seconds() * 1000


def history_breakdown(history: dict[str, object]) -> list[str]:
    """Lines of where the time goes in one workflow history (`fetch_history().to_json()`)."""
    events = history["events"]
    assert isinstance(events, list)
    by_id = {int(e["eventId"]): e for e in events}
    lines: list[str] = []
    totals: defaultdict[str, float] = defaultdict(float)
    scheduled: dict[str, dict[str, str]] = {}
    for event in events:
        kind = str(event["eventType"]).removeprefix("EVENT_TYPE_")
        at = event["eventTime"]
        if kind == "WORKFLOW_TASK_SCHEDULED":
            scheduled["wft"] = {"scheduled": at}
        elif kind == "WORKFLOW_TASK_STARTED":
            scheduled["wft"]["started"] = at
        elif kind == "WORKFLOW_TASK_COMPLETED":
            wft = scheduled.pop("wft")
            gap, run = _ms(wft["scheduled"], wft["started"]), _ms(wft["started"], at)
            totals["workflow task dispatch"] += gap
            totals["workflow task run"] += run
            lines.append(f"  {'workflow task':27} dispatch {gap:6.1f} ms  run {run:6.1f} ms")
        elif kind == "MARKER_RECORDED" and _local_activity(event):
            # A local activity ran inside the workflow task just completed: name it there.
            lines[-1] += (
                "" if "(local:" in lines[-1] else "  (local:"
            ) + f" {_local_activity(event)}"
        elif kind == "ACTIVITY_TASK_COMPLETED":
            attrs = event["activityTaskCompletedEventAttributes"]
            sched = by_id[int(attrs["scheduledEventId"])]
            start = by_id[int(attrs["startedEventId"])]
            name = sched["activityTaskScheduledEventAttributes"]["activityType"]["name"]
            gap = _ms(sched["eventTime"], start["eventTime"])
            run = _ms(start["eventTime"], at)
            totals["activity dispatch"] += gap
            totals["activity run"] += run
            lines.append(f"  activity {name:18} dispatch {gap:6.1f} ms  run {run:6.1f} ms")
    lines = [line + ")" if "(local:" in line else line for line in lines]
    total = _ms(events[0]["eventTime"], events[-1]["eventTime"])
    lines.append(f"  first to last event {total:6.1f} ms, of which:")
    for name, ms in totals.items():
        lines.append(f"    {name:24}{ms:6.1f} ms")
    rest = total - sum(totals.values())
    lines.append(f"    {'between tasks (server)':24}{rest:6.1f} ms")
    return lines


def _local_activity(event: dict[str, Any]) -> str:
    """The activity type of a local activity's marker, or "" for any other marker."""
    attrs = event["markerRecordedEventAttributes"]
    if attrs.get("markerName") != "core_local_activity":
        return ""
    data = attrs["details"]["data"]["payloads"][0]["data"]
    return str(json.loads(base64.b64decode(data))["activity_type"])


def main() -> None:
    """`python -m bench.order_report HISTORY.json ...`: each history's time breakdown."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("histories", nargs="+")
    for path in parser.parse_args().histories:
        with open(path) as file:
            print(path)
            print("\n".join(history_breakdown(json.load(file))))


if __name__ == "__main__":
    main()
