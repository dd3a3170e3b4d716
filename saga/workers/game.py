"""The `game` task queue's worker: every table workflow and the game activities."""

from __future__ import annotations

from temporalio.worker import Worker

from activities.game import GameActivities
from clients.balance import BalanceClient, TableMoney
from domain.game.settings import GameSettings
from domain.gateway.tables import TableEventLog
from infra.tokens import ServiceToken
from saga.workers.resources import WorkerResources
from workflows.game.table import TableWorkflow


def game_worker(resources: WorkerResources) -> Worker:
    """Hosts TableWorkflow and its activities, over a balance client with the game's token."""
    settings = GameSettings()
    balance = BalanceClient(
        settings.resolved_balance_grpc_address,
        ServiceToken(settings.jwt_secret.get_secret_value(), "game"),
        timeout_seconds=5.0,
    )
    game = GameActivities(
        TableMoney(balance),
        resources.redis,
        TableEventLog(resources.redis, settings.table_stream_max_length),
        settings.game_balance_mode,
    )
    return Worker(
        resources.client,
        task_queue=settings.game_task_queue,
        workflows=[TableWorkflow],
        activities=[game.buy_in, game.cash_out, game.apply_effects],
    )
