"""Settings of the game service and its worker."""

from __future__ import annotations

from domain.game.money import BalanceMode
from infra.settings import PlatformSettings


class GameSettings(PlatformSettings):
    """How the tables reach the balance service and keep their event streams."""

    # The seed's rollout flag (`off` / `dual` / `required`): see domain/game/money.py.
    game_balance_mode: BalanceMode = BalanceMode.REQUIRED
    # Events kept per table for `table.resync` (the gateway reads the same stream).
    table_stream_max_length: int = 1_000
    # Where table workflows run; tests give each their own.
    game_task_queue: str = "game"
