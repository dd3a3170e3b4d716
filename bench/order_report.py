"""What bench/order_saga.py prints: medians, ratios to the floor, CPU per order, troubles."""

from __future__ import annotations

import argparse
import statistics
from collections import Counter, defaultdict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.order_saga import Round


def report_troubles(sagas: list[Round], floors: list[Round], dropped: Counter[str]) -> None:
    """Print the connections dropped (and resent) and the runs lost, if any."""
    if dropped:
        print(f"dropped connections, resent with the same Idempotency-Key: {dict(dropped)}")
    for name, rounds in (("order sagas", sagas), ("floor runs", floors)):
        lost = sum((r.lost for r in rounds), Counter[str]())
        if lost:
            print(f"{name} lost (left out of the figures): {sum(lost.values())}")
            for reason, times in lost.most_common(5):
                print(f"  {times} x {reason}")


def report(sagas: list[Round], floors: list[Round], args: argparse.Namespace) -> None:
    """Print the medians over rounds and the ratios to the floor."""

    def med(rounds: list[Round], field: str) -> float:
        return float(statistics.median(float(getattr(r, field)) for r in rounds))

    print(f"{args.orders} orders x {args.rounds} rounds, concurrency {args.concurrency} (medians)")
    print(f"{'':26}{'orders/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    for name, rounds in (("order saga (HTTP->CONFIRMED)", sagas), ("engine floor (no-op)", floors)):
        print(
            f"{name:26.26}{med(rounds, 'throughput'):10.1f}{med(rounds, 'p50_ms'):10.1f}"
            f"{med(rounds, 'p99_ms'):10.1f}"
        )
    print(
        f"throughput ratio {med(sagas, 'throughput') / med(floors, 'throughput'):.2f} "
        f"(target >= 0.8), p99 ratio {med(sagas, 'p99_ms') / med(floors, 'p99_ms'):.2f} "
        "(target <= 1.5)"
    )
    print("CPU ms per order by process (medians; the floor's worker runs inside `bench`):")
    kinds = sorted({k for r in sagas + floors for k in r.cpu}, key=lambda k: -sagas[0].cpu[k])
    for kind in kinds:
        saga_ms = statistics.median(r.cpu[kind] for r in sagas) / args.orders
        floor_ms = statistics.median(r.cpu[kind] for r in floors) / args.orders
        if saga_ms >= 0.05 or floor_ms >= 0.05:
            print(f"  {kind:24.24}{saga_ms:8.1f} saga {floor_ms:8.1f} floor")


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
    total = _ms(events[0]["eventTime"], events[-1]["eventTime"])
    lines.append(f"  first to last event {total:6.1f} ms, of which:")
    for name, ms in totals.items():
        lines.append(f"    {name:24}{ms:6.1f} ms")
    rest = total - sum(totals.values())
    lines.append(f"    {'between tasks (server)':24}{rest:6.1f} ms")
    return lines


def main() -> None:
    """`python -m bench.order_report HISTORY.json ...`: each history's time breakdown."""
    import json

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("histories", nargs="+")
    for path in parser.parse_args().histories:
        with open(path) as file:
            print(path)
            print("\n".join(history_breakdown(json.load(file))))


if __name__ == "__main__":
    main()
