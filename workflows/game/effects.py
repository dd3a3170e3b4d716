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
# Taken at the top of every run: the lobby's line joins the step that changed it, and the step
# that ends a hand is applied once the hand's books are closed, so a hand's start and its end
# are one local activity each instead of two. Runs recorded before replay as they ran.
ONE_EFFECT_PER_STEP = "one-effect-per-step"

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
        # Whether a lobby line joins the batch before it (ONE_EFFECT_PER_STEP).
        self.lobby_joins = False

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
            while self._queue and self._joins(batch, self._queue[0]):
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

    def _joins(self, batch: list[TableEffects], effects: TableEffects) -> bool:
        """Whether `effects` can be applied in one call with `batch`, in the same order.

        Effects of one hand join until its settlement or the next pot. A lobby line moves no
        chip and shows no event, and a merged call applies it last: it may join any batch.
        """
        if self.lobby_joins and _lobby_only(effects):
            return True
        if effects.hand_id != batch[0].hand_id:
            return False
        return batch[-1].payouts is None and not effects.open_pot


def _lobby_only(effects: TableEffects) -> bool:
    return (
        effects.summary is not None
        and effects.hand_id is None
        and not (effects.open_pot or effects.contributions or effects.events or effects.private)
        and effects.payouts is None
    )
