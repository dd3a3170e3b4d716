"""The action clock's one timer: set for a turn's deadline, never cancelled."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow


class Alarm:
    """At most one timer at a time, for the action clock.

    A wait with a timeout per turn costs two timer commands per action (cancel the last
    turn's timer, start the next one) and their two history events. But a turn's deadline only
    moves later (the next turn starts after the last), so a timer already set rings, at worst,
    before the current deadline: the clock then sets it again for what is left. At a table
    where players act within their time, that is one timer per action timeout, not two
    commands per action.
    """

    def __init__(self) -> None:
        self._at: datetime | None = None
        self._task: asyncio.Task[None] | None = None
        # Whether the timer rang since the last `set_for`: the clock's wait ends on it.
        self.rang = False

    def set_for(self, deadline: datetime) -> None:
        """Make sure a timer rings at `deadline` or before."""
        self.rang = False
        if self._at is None:
            delay = deadline - workflow.now()
            if delay > timedelta(0):
                self._at = deadline
                self._task = asyncio.create_task(self._ring(delay))

    async def _ring(self, delay: timedelta) -> None:
        await workflow.sleep(delay, summary="action clock")
        self._at = None
        self.rang = True
