"""What bench/order_saga.py prints: medians, ratios to the floor, CPU per order, troubles."""

from __future__ import annotations

import argparse
import statistics
from collections import Counter
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
