"""Workflow histories: export completed runs from a server, replay them against the code."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer

REPLAY_DIR = Path(__file__).resolve().parents[1] / "tests" / "replay"


def history_dir_name(workflow_type: str) -> str:
    """`OrderSagaWorkflow` -> `order_saga`: where a type's histories are kept."""
    stem = workflow_type.removesuffix("Workflow") or workflow_type
    return re.sub(r"(?<!^)(?=[A-Z])", "_", stem).lower()


@dataclass(frozen=True)
class ReplayOutcome:
    """One history and what replaying it said (None: it replayed cleanly)."""

    path: Path
    error: str | None


async def export_histories(
    client: Client,
    directory: Path = REPLAY_DIR,
    *,
    workflow_type: str | None = None,
    limit: int = 20,
) -> list[Path]:
    """Write the histories of up to `limit` completed workflows (per type) as JSON files."""
    query = 'ExecutionStatus = "Completed"'
    if workflow_type:
        query += f' AND WorkflowType = "{workflow_type}"'
    written: list[Path] = []
    per_type: dict[str, int] = {}
    async for execution in client.list_workflows(query):
        kind = execution.workflow_type
        if per_type.get(kind, 0) >= limit:
            continue
        history = await client.get_workflow_handle(
            execution.id, run_id=execution.run_id
        ).fetch_history()
        target = directory / history_dir_name(kind) / f"{_safe(execution.id)}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(history.to_json())
        written.append(target)
        per_type[kind] = per_type.get(kind, 0) + 1
    return written


def history_files(directory: Path = REPLAY_DIR) -> list[Path]:
    """Every recorded history under `directory`, sorted."""
    return sorted(directory.glob("**/*.json"))


async def replay_file(path: Path, workflows: list[type]) -> ReplayOutcome:
    """Replay one history file; a determinism or decoding failure is reported, not raised."""
    try:
        text = await asyncio.to_thread(path.read_text)
        history = WorkflowHistory.from_json(path.stem, text)
        await Replayer(workflows=workflows).replay_workflow(history)
    except Exception as exc:
        return ReplayOutcome(path, f"{type(exc).__name__}: {exc}")
    return ReplayOutcome(path, None)


def _safe(workflow_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", workflow_id)
