"""What a table's steps change outside, queued and then applied in order, each at most once."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.game import GameActivities
    from workflows.game.events import TableEvents
    from workflows.game.models import TableEffects

LOCAL_EFFECTS = "local-effects"

# Effects retry until the balance service or Redis answers: a table pauses, it never drops a
# chip. A business refusal cannot happen here (the table mirrors its seat accounts), so
# nothing is non-retryable.
EFFECTS_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=10),
)


class Effects:
    """The table's queue of effects: chips into pots, events for players, the lobby line."""

    def __init__(self) -> None:
        self._queue: list[TableEffects] = []
        self._local: bool | None = None

    @property
    def pending(self) -> bool:
        """Whether effects wait to be applied."""
        return bool(self._queue)

    def add(self, effects: TableEffects) -> None:
        """Queue `effects` behind the others."""
        self._queue.append(effects)

    async def flush(self) -> None:
        """Apply queued effects in order; consecutive ones of one hand go in one activity call."""
        while self._queue:
            batch = [self._queue.pop(0)]
            while self._queue and self._queue[0].hand_id == batch[0].hand_id:
                if batch[-1].payouts is not None or self._queue[0].open_pot:
                    break
                batch.append(self._queue.pop(0))
            merged = TableEvents.merge(batch)
            if self._local is None:
                # Runs recorded before effects were local replay as they ran.
                self._local = workflow.patched(LOCAL_EFFECTS)
            run = (
                workflow.execute_local_activity_method
                if self._local
                else workflow.execute_activity_method
            )
            # Local: in this worker, inside the workflow task of the action that caused it,
            # without a task queue round trip or a workflow task of its own.
            await run(
                GameActivities.apply_effects,
                merged,
                start_to_close_timeout=timedelta(seconds=15),
                retry_policy=EFFECTS_RETRY,
                summary=TableEvents.describe(merged),
            )
