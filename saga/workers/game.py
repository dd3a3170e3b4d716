"""The `game` task queue's worker: every table workflow, the game activities, reconciliation."""

from __future__ import annotations

import logging
from typing import Any

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker

from activities.game import GameActivities
from activities.game_reconciliation import Reconciliation
from clients.balance import BalanceClient, TableMoney
from domain.game.money import BalanceMode
from domain.game.settings import GameSettings
from domain.gateway.tables import TableEventLog
from infra.telemetry import untraced
from infra.tokens import ServiceToken
from saga.workers.resources import WorkerResources
from workflows.game.reconciliation import (
    RECONCILIATION_WORKFLOW_ID,
    BalanceReconciliationWorkflow,
)
from workflows.game.table import TableWorkflow

log = logging.getLogger(__name__)


async def ensure_reconciliation(client: Client, task_queue: str) -> None:
    """Start the reconciliation singleton unless it runs already (its id makes this idempotent)."""
    await client.start_workflow(
        BalanceReconciliationWorkflow.run,
        id=RECONCILIATION_WORKFLOW_ID,
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )


class GameWorker(Worker):
    """Starts the reconciliation singleton in `dual` mode, then polls."""

    def __init__(self, client: Client, settings: GameSettings, **kwargs: Any) -> None:
        super().__init__(client, **kwargs)
        self._temporal = client
        self._settings = settings

    async def run(self) -> None:
        """Poll; in `dual` mode the reconciliation singleton runs too."""
        if self._settings.game_balance_mode is BalanceMode.DUAL:
            try:
                with untraced():
                    await ensure_reconciliation(self._temporal, self._settings.game_task_queue)
            except Exception:
                log.exception("could not start the reconciliation workflow; will retry on restart")
        await super().run()


def game_worker(resources: WorkerResources) -> Worker:
    """Hosts TableWorkflow and its activities, over a balance client with the game's token."""
    settings = GameSettings()
    balance = BalanceClient(
        settings.resolved_balance_grpc_address,
        ServiceToken(settings.jwt_secret.get_secret_value(), "game"),
        timeout_seconds=5.0,
    )
    money = TableMoney(balance)
    game = GameActivities(
        money,
        resources.redis,
        TableEventLog(resources.redis, settings.table_stream_max_length),
        settings.game_balance_mode,
    )
    reconciliation = Reconciliation(money, resources.redis)
    return GameWorker(
        resources.client,
        settings,
        task_queue=settings.game_task_queue,
        workflows=[TableWorkflow, BalanceReconciliationWorkflow],
        activities=[
            game.buy_in,
            game.cash_out,
            game.apply_effects,
            reconciliation.reconcile_queued_moves,
        ],
    )
