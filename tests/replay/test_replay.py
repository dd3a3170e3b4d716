"""Every recorded history under tests/replay/ replays against today's workflow code.

A change that breaks determinism for runs already in flight fails here. Record new
histories with `saga replay --export` (from a running platform) or, for the order saga,
`SAGA_RECORD_HISTORIES=1 pytest tests/workflows/test_checkout_saga.py`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from saga.replay import REPLAY_DIR, history_files, replay_file
from saga.workers import all_workflows
from tests.replay.changed_workflow import ChangedExpiryWorkflow

HISTORIES = history_files(REPLAY_DIR)


def test_histories_are_checked_in() -> None:
    assert HISTORIES, f"no recorded histories under {REPLAY_DIR}"
    # Every workflow type keeps histories of its own, so none can vanish unnoticed.
    kinds = {path.parent.name for path in HISTORIES}
    assert {"order_saga", "balance", "table", "balance_reconciliation"} <= kinds


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: f"{p.parent.name}/{p.stem}")
async def test_history_replays(path: Path) -> None:
    outcome = await replay_file(path, all_workflows())
    assert outcome.error is None, outcome.error


async def test_a_changed_workflow_fails_to_replay() -> None:
    # The negative control: the replay check can fail, and fails on exactly this change.
    recorded = next(p for p in HISTORIES if p.stem == "reservation_expiry_continue_as_new")
    assert (await replay_file(recorded, all_workflows())).error is None
    outcome = await replay_file(recorded, [ChangedExpiryWorkflow])
    assert outcome.error is not None
    assert "Nondeterminism" in outcome.error or "nondeterminism" in outcome.error.lower()
