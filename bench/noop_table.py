"""The engine floor of a table action: a Workflow Update to a workflow that does nothing else."""

from __future__ import annotations

from temporalio import workflow


@workflow.defn
class NoopTableWorkflow:
    """Accepts `act` updates, validated and counted, until told to stop."""

    def __init__(self) -> None:
        self._actions = 0
        self._done = False

    @workflow.run
    async def run(self) -> int:
        """Wait until `stop`; the number of actions taken."""
        await workflow.wait_condition(lambda: self._done)
        return self._actions

    @workflow.update
    def act(self, action: str) -> int:
        """Count the action and answer at once, as a table answers with its view."""
        self._actions += 1
        return self._actions

    @act.validator
    def _check(self, action: str) -> None:
        if not action:
            raise ValueError("no action")

    @workflow.signal
    def stop(self) -> None:
        """End the run."""
        self._done = True
