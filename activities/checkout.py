"""Saga progress on the order ledger: each step, each retry, each status change announced."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import asyncpg
import redis.asyncio as aioredis
from prometheus_client import Counter
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.checkout.announcer import announce
from domain.checkout.ledger import LedgerRepository
from domain.checkout.models import LedgerStatus, StatusChange
from domain.errors import DomainError
from infra.db.connection import Connection
from infra.faults import fault_point
from workflows.checkout.models import LedgerStatusInput

log = logging.getLogger(__name__)

SAGA_OUTCOMES = Counter(
    "saga_order_outcomes_total",
    "Order sagas that ended, by final status and failure reason (its error type)",
    ["status", "reason"],
)
_FINAL = {LedgerStatus.CONFIRMED.value, LedgerStatus.FAILED.value}


def count_outcome(change: StatusChange | None) -> None:
    """Count a saga that reached CONFIRMED or FAILED; the ledger records that step only once."""
    if change is None or change.status not in _FINAL:
        return
    # "OUT_OF_STOCK: 5 widget wanted, 3 left" -> OUT_OF_STOCK: a label with few values.
    reason = (change.failure_reason or "").split(":", 1)[0].strip()[:64]
    SAGA_OUTCOMES.labels(change.status, reason or "none").inc()


class SagaLedger:
    """Each step's work and its ledger entry as one unit, announced once committed."""

    def __init__(self, pool: asyncpg.Pool, redis: aioredis.Redis) -> None:
        self._pool = pool
        self._redis = redis

    @asynccontextmanager
    async def step(
        self,
        order_ledger_id: str,
        step: str,
        *,
        status: LedgerStatus | None = None,
        outcome: str = "completed",
        order_id: uuid.UUID | None = None,
    ) -> AsyncIterator[Connection]:
        """The block's writes on the yielded connection and the ledger step, in one transaction."""
        # Failures leave as activity errors (`_failure`); the change is announced after commit.
        ledger_id = uuid.UUID(order_ledger_id)
        await self._note_lost_attempts(order_ledger_id, step)
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                yield conn
                change = await LedgerRepository(conn).advance(
                    ledger_id, step, outcome, status=status, order_id=order_id
                )
        except Exception as exc:
            raise await self._failure(order_ledger_id, step, exc) from exc
        fault_point(f"after_effect:{step}")
        count_outcome(change)
        await self.announce(change)

    @asynccontextmanager
    async def remote_step(
        self,
        order_ledger_id: str,
        step: str,
        *,
        status: LedgerStatus | None = None,
        outcome: str = "completed",
    ) -> AsyncIterator[None]:
        """A step done elsewhere (the PSP): recorded once the block succeeded; errors as `step`."""
        # No connection is held while the block runs: it waits on another service.
        await self._note_lost_attempts(order_ledger_id, step)
        try:
            yield
        except Exception as exc:
            raise await self._failure(order_ledger_id, step, exc) from exc
        fault_point(f"after_effect:{step}")
        await self.record(order_ledger_id, step, outcome, status=status)

    async def record(
        self,
        order_ledger_id: str,
        step: str,
        outcome: str,
        *,
        status: LedgerStatus | None = None,
        failure_reason: str | None = None,
        detail: str | None = None,
    ) -> None:
        """Record a step whose work happened elsewhere (the PSP), then announce it."""
        async with self._pool.acquire() as conn:
            change = await LedgerRepository(conn).advance(
                uuid.UUID(order_ledger_id),
                step,
                outcome,
                status=status,
                failure_reason=failure_reason,
                detail=detail,
            )
        count_outcome(change)
        await self.announce(change)

    async def _failure(self, order_ledger_id: str, step: str, exc: Exception) -> Exception:
        """The error to raise from the activity; transient ones are counted in the ledger.

        Business failures become non-retryable ApplicationErrors typed with their code.
        """
        if isinstance(exc, DomainError) and not exc.retryable:
            return ApplicationError(exc.detail, type=exc.code.value, non_retryable=True)
        await self._note_retry(order_ledger_id, step)
        if isinstance(exc, DomainError):
            return ApplicationError(exc.detail, type=exc.code.value)
        return exc

    async def announce(self, change: StatusChange | None) -> None:
        """Publish a status change for the gateway (None: the step was already recorded)."""
        if change is not None:
            await announce(self._redis, change)

    async def _note_lost_attempts(self, order_ledger_id: str, step: str) -> None:
        """On a retry, count the earlier attempts that timed out or died with their worker."""
        if not activity.in_activity() or activity.info().attempt == 1:
            return
        try:
            async with self._pool.acquire() as conn:
                await LedgerRepository(conn).note_lost_attempts(
                    uuid.UUID(order_ledger_id), step, activity.info().attempt
                )
        except Exception:
            log.warning("could not count the lost attempts of %s", step, exc_info=True)

    async def _note_retry(self, order_ledger_id: str, step: str) -> None:
        info = activity.info()
        due = next_retry_at(info)
        try:
            async with self._pool.acquire() as conn:
                await LedgerRepository(conn).note_retry(
                    uuid.UUID(order_ledger_id), step, info.attempt, due
                )
        except Exception:
            log.warning("could not record the retry of %s", step, exc_info=True)


def next_retry_at(info: activity.Info) -> datetime | None:
    """When Temporal will run the next attempt, or None if this was the last one."""
    policy = info.retry_policy
    if policy is None:
        return None
    if policy.maximum_attempts and info.attempt >= policy.maximum_attempts:
        return None
    delay = policy.initial_interval.total_seconds() * policy.backoff_coefficient ** (
        info.attempt - 1
    )
    if policy.maximum_interval is not None:
        delay = min(delay, policy.maximum_interval.total_seconds())
    return datetime.now(UTC) + timedelta(seconds=delay)


class LedgerActivities:
    """The ledger moves that belong to no other step: COMPENSATING and FAILED."""

    def __init__(self, ledger: SagaLedger) -> None:
        self._ledger = ledger

    @activity.defn
    async def record_ledger_status(self, request: LedgerStatusInput) -> None:
        """Move the ledger to the requested status with the step that caused it."""
        await self._ledger.record(
            request.order_ledger_id,
            request.step,
            request.outcome,
            status=LedgerStatus(request.status),
            failure_reason=request.failure_reason,
            detail=request.failure_reason,
        )
