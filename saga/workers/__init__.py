"""The Temporal workers of each bounded context, built from shared resources in one process."""

from __future__ import annotations

from saga.workers.resources import WorkerFactory, WorkerResources

__all__ = ["WorkerFactory", "WorkerResources", "all_workflows", "worker_factories"]


def worker_factories() -> dict[str, WorkerFactory]:
    """Task queue name to the function that builds its worker.

    Imported here, not at module level, so `saga --help` stays fast.
    """
    factories: dict[str, WorkerFactory] = {}
    from saga.workers.checkout import ORDER_SAGA_WORKERS

    factories.update(ORDER_SAGA_WORKERS)
    from saga.workers.balance import balance_worker

    factories["balance"] = balance_worker
    from saga.workers.game import game_worker

    factories["game"] = game_worker
    return factories


def all_workflows() -> list[type]:
    """Every workflow class of the platform, for replay tests and `saga replay`."""
    workflows: list[type] = []
    from workflows.checkout.order_saga import OrderSagaWorkflow

    workflows.append(OrderSagaWorkflow)
    from workflows.balance.expiry import ReservationExpiryWorkflow
    from workflows.balance.verification import LedgerVerificationWorkflow

    workflows += [ReservationExpiryWorkflow, LedgerVerificationWorkflow]
    from workflows.game.reconciliation import BalanceReconciliationWorkflow
    from workflows.game.table import TableWorkflow

    workflows += [TableWorkflow, BalanceReconciliationWorkflow]
    return workflows
