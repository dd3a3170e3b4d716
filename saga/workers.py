"""The Temporal workers of each bounded context, built from shared resources in one process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import asyncpg
import httpx
import redis.asyncio as aioredis
from temporalio.client import Client
from temporalio.worker import Worker

from saga.settings import PlatformSettings


@dataclass
class WorkerResources:
    """Clients a worker's activities receive in their constructors."""

    settings: PlatformSettings
    client: Client
    db: asyncpg.Pool
    redis: aioredis.Redis
    http: httpx.AsyncClient


WorkerFactory = Callable[[WorkerResources], Worker]


def worker_factories() -> dict[str, WorkerFactory]:
    """Task queue name to the function that builds its worker.

    Imported here, not at module level, so `saga --help` stays fast.
    """
    factories: dict[str, WorkerFactory] = {}
    from activities.order_saga_workers import ORDER_SAGA_WORKERS

    factories.update(ORDER_SAGA_WORKERS)
    from activities.balance_worker import balance_worker

    factories["balance"] = balance_worker
    return factories


def all_workflows() -> list[type]:
    """Every workflow class of the platform, for replay tests and `saga replay`."""
    workflows: list[type] = []
    from workflows.order_saga import OrderSagaWorkflow

    workflows.append(OrderSagaWorkflow)
    from workflows.balance_expiry import ReservationExpiryWorkflow
    from workflows.balance_verification import LedgerVerificationWorkflow

    workflows += [ReservationExpiryWorkflow, LedgerVerificationWorkflow]
    return workflows
