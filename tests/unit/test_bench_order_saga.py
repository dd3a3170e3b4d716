"""The order-saga benchmark counts a dropped connection or a lost order instead of dying."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest

from bench.order_report import Case, report_troubles
from bench.order_saga import measure
from bench.players import OrderLost


async def _flaky(i: int) -> None:
    if i == 1:
        raise httpx.ReadError("connection dropped")
    if i == 2:
        raise OrderLost("ended FAILED")


async def test_lost_calls_are_counted_and_left_out_of_the_figures(
    capsys: pytest.CaptureFixture[str],
) -> None:
    measured = await measure(_flaky, 4, 2)
    assert measured.lost == Counter(
        {"ReadError: connection dropped": 1, "OrderLost: ended FAILED": 1}
    )
    assert measured.throughput > 0
    case = Case("saga, concurrent, WebSocket", _flaky, 4, 2, [measured])
    report_troubles([case], Counter({"ReadError": 3}))
    printed = capsys.readouterr().out
    assert "dropped connections, resent with the same Idempotency-Key: {'ReadError': 3}" in printed
    assert "saga, concurrent, WebSocket: lost (left out of the figures): 2" in printed


async def test_a_round_where_every_call_was_lost_still_reports() -> None:
    async def dropped(i: int) -> None:
        raise httpx.ConnectError("refused")

    measured = await measure(dropped, 3, 3)
    assert sum(measured.lost.values()) == 3
    assert measured.throughput == 0
