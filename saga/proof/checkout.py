"""Orders at a steady rate over HTTP, each retried under its Idempotency-Key until answered."""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

# (payment method, share of orders, out of stock?): the mix of DESIGN.md's test tokens.
ORDER_MIX: tuple[tuple[str, float, bool], ...] = (
    ("pm_card_visa", 0.50, False),
    ("pm_capture_flaky", 0.15, False),
    ("pm_capture_declined", 0.10, False),
    ("pm_card_declined", 0.10, False),
    ("pm_card_visa", 0.15, True),
)
PLENTY = 1_000_000
# The scarce product runs out during the run, so late orders for it fail on real contention.
SCARCE_STOCK = 25
SCARCE_SHARE = 0.1
OUT_OF_STOCK_QUANTITY = 10_000


@dataclass
class Submission:
    """One order: its key and body, and the edge's final answer to it."""

    key: str
    body: dict[str, Any]
    status_code: int | None = None
    answer: dict[str, Any] | None = None
    attempts: int = 0

    @property
    def accepted(self) -> bool:
        """Answered 202: the saga must now drive it to CONFIRMED or FAILED."""
        return self.status_code == 202

    @property
    def order_ledger_id(self) -> str | None:
        """The ledger entry the edge answered with."""
        return None if self.answer is None else self.answer.get("order_ledger_id")


@dataclass
class OrderLoad:
    """Submits orders at `rate` per second to the edge and keeps every answer."""

    edge_url: str
    inventory_url: str
    token: str
    rate: float
    rng: random.Random
    answer_timeout: float = 120.0
    replay_share: float = 0.15
    twin_share: float = 0.05
    max_in_flight: int = 64
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    initial_stock: dict[str, int] = field(default_factory=dict)
    submissions: list[Submission] = field(default_factory=list)
    answers: Counter[str] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)
    late_starts: int = 0

    @property
    def headers(self) -> dict[str, str]:
        """A service token: the proof acts for many customers."""
        return {"Authorization": f"Bearer {self.token}"}

    async def seed(self, http: httpx.AsyncClient) -> None:
        """Create the run's products with known stock (retried: the platform may be busy)."""
        stock = {f"proof-{self.run_id}-{n}": PLENTY for n in ("a", "b", "c")}
        stock[f"proof-{self.run_id}-scarce"] = SCARCE_STOCK
        for product_id, units in stock.items():
            body = {"product_id": product_id, "name": product_id, "price_cents": 250}
            response = await self._post(
                http, f"{self.inventory_url}/inventory/products", {**body, "initial_stock": units}
            )
            if response is None or response.status_code not in (200, 201):
                raise RuntimeError(f"could not create {product_id}: {response}")
        self.initial_stock = stock

    async def run(self, stop: asyncio.Event, http: httpx.AsyncClient) -> None:
        """Start one order every 1/rate seconds until `stop`; then wait for every answer."""
        loop = asyncio.get_running_loop()
        gate = asyncio.Semaphore(self.max_in_flight)
        tasks: set[asyncio.Task[None]] = set()
        started = loop.time()
        n = 0
        while not stop.is_set():
            due = started + n / self.rate
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=max(0.0, due - loop.time()))
            if stop.is_set():
                break
            if gate.locked():
                self.late_starts += 1
            await gate.acquire()
            task = asyncio.create_task(self._one(http, self._new_order(n)))
            tasks.add(task)

            def finished(done: asyncio.Task[None]) -> None:
                tasks.discard(done)
                gate.release()

            task.add_done_callback(finished)
            n += 1
        if tasks:
            await asyncio.gather(*tasks)

    def _new_order(self, n: int) -> Submission:
        plentiful = sorted(p for p in self.initial_stock if not p.endswith("scarce"))
        scarce = f"proof-{self.run_id}-scarce"
        method, out_of_stock = _pick(self.rng)
        if out_of_stock:
            items = [{"product_id": scarce, "quantity": OUT_OF_STOCK_QUANTITY}]
            if self.rng.random() < 0.5:
                items.insert(0, {"product_id": plentiful[0], "quantity": 1})
        else:
            chosen = self.rng.sample(plentiful, k=self.rng.choice((1, 1, 2)))
            if self.rng.random() < SCARCE_SHARE:
                chosen.append(scarce)
            items = [{"product_id": p, "quantity": self.rng.randint(1, 3)} for p in chosen]
        body = {
            "customer_id": f"proof-{self.run_id}-{n % 25}",
            "items": items,
            "payment_method": method,
            "currency": "USD",
        }
        submission = Submission(f"proof-{self.run_id}-{n}", body)
        self.submissions.append(submission)
        return submission

    async def _one(self, http: httpx.AsyncClient, sub: Submission) -> None:
        if self.rng.random() < self.twin_share:
            # Two clients racing with one key must get one order between them.
            first, second = await asyncio.gather(self._answer(http, sub), self._answer(http, sub))
            self._compare(sub, first, second, "concurrent twin")
            self._record(sub, first)
            return
        response = await self._answer(http, sub)
        self._record(sub, response)
        if response is not None and self.rng.random() < self.replay_share:
            self._compare(sub, response, await self._answer(http, sub), "replay")

    async def _answer(self, http: httpx.AsyncClient, sub: Submission) -> httpx.Response | None:
        headers = {"Idempotency-Key": sub.key}
        response = await self._post(http, f"{self.edge_url}/orders", sub.body, headers, sub)
        if response is not None and response.status_code not in (202, 402):
            self.violations.append(
                f"order {sub.key}: unexpected {response.status_code} {response.text[:200]}"
            )
        return response

    async def _post(
        self,
        http: httpx.AsyncClient,
        url: str,
        body: dict[str, Any],
        headers: dict[str, str] | None = None,
        sub: Submission | None = None,
    ) -> httpx.Response | None:
        """POST until a non-5xx answer or `answer_timeout`; the same key on every attempt."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.answer_timeout
        delay = 0.2
        while True:
            if sub is not None:
                sub.attempts += 1
            try:
                response = await http.post(
                    url, json=body, headers={**self.headers, **(headers or {})}, timeout=10
                )
                self.answers[str(response.status_code)] += 1
                if response.status_code < 500:
                    return response
            except httpx.TransportError as exc:
                self.answers[type(exc).__name__] += 1
            if loop.time() + delay > deadline:
                return None
            await asyncio.sleep(delay)
            delay = min(2.0, delay * 2)

    def _record(self, sub: Submission, response: httpx.Response | None) -> None:
        if response is None or sub.status_code is not None:
            return
        sub.status_code = response.status_code
        with contextlib.suppress(ValueError):
            sub.answer = response.json()

    def _compare(
        self,
        sub: Submission,
        first: httpx.Response | None,
        second: httpx.Response | None,
        what: str,
    ) -> None:
        if first is None or second is None:
            return  # unanswered: resolve_unanswered asks again after the faults
        if (first.status_code, _ledger_id(first)) != (second.status_code, _ledger_id(second)):
            self.violations.append(
                f"order {sub.key}: {what} answered {second.status_code} {_ledger_id(second)}, "
                f"first answer {first.status_code} {_ledger_id(first)}"
            )
        elif what == "replay" and second.headers.get("Idempotency-Replayed") != "true":
            self.violations.append(f"order {sub.key}: replay not marked Idempotency-Replayed")

    async def resolve_unanswered(self, http: httpx.AsyncClient) -> int:
        """Ask again, with the same keys, for orders that got no answer while parts were down."""
        waiting = [s for s in self.submissions if s.status_code is None]
        for sub in waiting:
            self._record(sub, await self._answer(http, sub))
        return len(waiting)

    def accepted(self) -> list[Submission]:
        """Orders the edge accepted (202)."""
        return [s for s in self.submissions if s.accepted]

    def unanswered(self) -> list[Submission]:
        """Orders that never got an answer, even after the faults stopped."""
        return [s for s in self.submissions if s.status_code is None]


def _pick(rng: random.Random) -> tuple[str, bool]:
    roll = rng.random()
    for method, share, out_of_stock in ORDER_MIX:
        if roll < share:
            return method, out_of_stock
        roll -= share
    return ORDER_MIX[0][0], ORDER_MIX[0][2]


def _ledger_id(response: httpx.Response) -> str | None:
    with contextlib.suppress(ValueError):
        body = response.json()
        return body.get("order_ledger_id") if isinstance(body, dict) else None
    return None
