"""Economy metrics: chip supply, circulation velocity, and sink and source rates by source."""

from __future__ import annotations

import time
from collections import deque

from prometheus_client import Counter, Gauge

from domain.balance.slots import economy_totals
from infra.redis import RedisClient

CHIP_SOURCES = Counter(
    "saga_balance_chip_sources_total",
    "Chips credited to accounts, by transaction source (rate() gives the source rate)",
    ["source"],
)
CHIP_SINKS = Counter(
    "saga_balance_chip_sinks_total",
    "Chips debited from accounts, by transaction source (rate() gives the sink rate)",
    ["source"],
)
CHIP_SUPPLY = Gauge(
    "saga_balance_chip_supply", "Chips in circulation: every account balance plus open pots"
)
CIRCULATION_VELOCITY = Gauge(
    "saga_balance_circulation_velocity",
    "Chips moved per hour over the sampling window, divided by the chip supply",
)

RESERVATIONS_CLOSED = Counter(
    "saga_balance_reservations_closed_total",
    "Reservations that ended, by outcome: committed, released or expired "
    "(expired over all of them is the expiry rate; the seed asks for under 1%)",
    ["outcome"],
)


def count_closed(status: str, count: int = 1) -> None:
    """Count reservations that ended with `status` (COMMITTED, RELEASED or EXPIRED).

    Counted by the state a reservation ended in, not by the call that ended it: a release
    or a commit that finds the reservation past its expiry expires it, and a pot
    contribution from a reservation commits it.
    """
    RESERVATIONS_CLOSED.labels(status.lower()).inc(count)


def count_movement(source: str, amount: int) -> None:
    """Count one balance movement: positive amounts are sources, negative ones sinks."""
    if amount > 0:
        CHIP_SOURCES.labels(source).inc(amount)
    elif amount < 0:
        CHIP_SINKS.labels(source).inc(-amount)


def velocity_per_hour(
    samples: deque[tuple[float, int]] | list[tuple[float, int]], supply: int
) -> float:
    """Chips moved per hour between the oldest and newest (time, volume) sample, over supply."""
    if len(samples) < 2 or supply <= 0:
        return 0.0
    (t0, v0), (t1, v1) = samples[0], samples[-1]
    if t1 <= t0:
        return 0.0
    return (v1 - v0) / (t1 - t0) * 3600 / supply


class EconomySampler:
    """Reads the supply and volume counters the scripts keep, and sets the gauges."""

    def __init__(self, redis: RedisClient, window_seconds: float = 300.0) -> None:
        self.redis = redis
        self.window_seconds = window_seconds
        self._samples: deque[tuple[float, int]] = deque()

    async def sample(self, now: float | None = None) -> tuple[int, float]:
        """Take one sample; the supply and the velocity per hour."""
        at = time.monotonic() if now is None else now
        supply, volume = await economy_totals(self.redis)
        self._samples.append((at, volume))
        while len(self._samples) > 2 and at - self._samples[0][0] > self.window_seconds:
            self._samples.popleft()
        velocity = velocity_per_hour(self._samples, supply)
        CHIP_SUPPLY.set(supply)
        CIRCULATION_VELOCITY.set(velocity)
        return supply, velocity
