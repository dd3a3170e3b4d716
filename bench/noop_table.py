"""The engine floor of a table action: a Workflow Update to a workflow that does nothing else."""

from __future__ import annotations

from temporalio import workflow

# Temporal admits at most 2,000 updates per run; a table continues as new between hands, and
# so does this floor after this many actions.
ACTIONS_PER_RUN = 500


@workflow.defn
class NoopTableWorkflow:
    """Accepts `act` updates, validated and counted, until told to stop."""

    def __init__(self) -> None:
        self._actions = 0
        self._done = False

    @workflow.run
    async def run(self) -> int:
        """Wait until `stop`; the number of actions taken (continuing as new now and then)."""
        await workflow.wait_condition(lambda: self._done or self._actions >= ACTIONS_PER_RUN)
        if not self._done:
            await workflow.wait_condition(workflow.all_handlers_finished)
            workflow.continue_as_new()
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
