"""Helpers of the game tests: a table worker on a test's own queue, and a table to play at."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from activities.game import GameActivities
from clients.balance import BalanceClient, TableMoney
from domain.game.money import BalanceMode
from domain.gateway.tables import TableEventLog
from saga.replay import REPLAY_DIR
from tests.eventually import assert_eventually
from workflows.game.models import (
    ActRequest,
    SitRequest,
    TableConfig,
    TableState,
    ViewRequest,
    table_workflow_id,
)
from workflows.game.table import TableWorkflow


def table_config(**overrides: Any) -> TableConfig:
    """A 5/10 table, six seats, dealing the next hand at once."""
    values: dict[str, Any] = {
        "table_id": "t" + uuid.uuid4().hex[:10],
        "name": "test table",
        "small_blind": 5,
        "big_blind": 10,
        "min_buy_in": 100,
        "max_buy_in": 1_000,
        "max_seats": 6,
        "action_timeout_seconds": 30,
        "rake_bps": 500,
        "rake_cap": 30,
        "next_hand_delay_seconds": 0.0,
    }
    values.update(overrides)
    return TableConfig(**values)


@asynccontextmanager
async def table_worker(
    client: Client,
    task_queue: str,
    redis: aioredis.Redis,
    *,
    balance: BalanceClient | None = None,
    mode: BalanceMode = BalanceMode.OFF,
) -> AsyncIterator[Worker]:
    """A worker hosting TableWorkflow and its activities on `task_queue`."""
    owned = balance is None
    balance = balance or BalanceClient("127.0.0.1:9", "unused")
    activities = GameActivities(TableMoney(balance), redis, TableEventLog(redis, 1_000), mode)
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=[TableWorkflow],
        activities=[activities.buy_in, activities.cash_out, activities.apply_effects],
    )
    async with worker:
        yield worker
    if owned:
        await balance.close()


async def open_table(
    client: Client, task_queue: str, config: TableConfig
) -> WorkflowHandle[Any, Any]:
    """Start the table's workflow (no search attributes: the test server may not know them)."""
    return await client.start_workflow(
        TableWorkflow.run,
        TableState(config),
        id=table_workflow_id(config.table_id),
        task_queue=task_queue,
    )


async def sit(
    handle: WorkflowHandle[Any, Any], user: str, buy_in: int, seat: int | None = None
) -> dict[str, Any]:
    """Take a seat with a fresh idempotency key."""
    answer: dict[str, Any] = await handle.execute_update(
        TableWorkflow.sit, SitRequest(user, buy_in, seat, f"sit-{uuid.uuid4().hex}")
    )
    return answer


async def view(handle: WorkflowHandle[Any, Any], viewer: str | None = None) -> dict[str, Any]:
    """The table as `viewer` sees it."""
    seen: dict[str, Any] = await handle.query(TableWorkflow.view, ViewRequest(viewer))
    return seen


async def dealt(handle: WorkflowHandle[Any, Any], viewer: str | None = None) -> dict[str, Any]:
    """The table once a hand is dealt (the table deals by itself)."""

    async def in_hand() -> dict[str, Any]:
        table = await view(handle, viewer)
        assert table["hand"] is not None
        return table

    return await assert_eventually(in_hand)


async def act(
    handle: WorkflowHandle[Any, Any], user: str, action: str, amount: int | None = None
) -> dict[str, Any]:
    """One action."""
    seen: dict[str, Any] = await handle.execute_update(
        TableWorkflow.act, ActRequest(user, action, amount)
    )
    return seen


async def record_history(handle: WorkflowHandle[Any, Any], name: str, kind: str = "table") -> None:
    """With SAGA_RECORD_HISTORIES=1, check the run's history in for the replay tests."""
    if not os.environ.get("SAGA_RECORD_HISTORIES"):
        return
    target = REPLAY_DIR / kind / f"{name}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text((await handle.fetch_history()).to_json())


async def local_steps(handle: WorkflowHandle[Any, Any]) -> list[str]:
    """The summary of each local activity the table ran, in order, as the Temporal UI shows it."""
    steps = []
    async for event in handle.fetch_history_events():
        if event.HasField("marker_recorded_event_attributes") and event.user_metadata.summary.data:
            steps.append(json.loads(event.user_metadata.summary.data))
    return steps


async def table_events(redis: aioredis.Redis, table_id: str) -> list[dict[str, Any]]:
    """Every event of the table's stream, oldest first."""
    entries: Any = await redis.xrange(f"tables:{table_id}:events", "-", "+")
    return [json.loads(fields[b"data"]) for _, fields in entries]


async def play_passively(handle: WorkflowHandle[Any, Any], hand_id: str) -> None:
    """Check or call until `hand_id` is over."""
    while True:
        table = await view(handle)
        hand = table["hand"]
        if hand is None or hand["hand_id"] != hand_id:
            return
        actor = hand["to_act"]
        legal = (await view(handle, actor))["hand"]["legal_actions"]["actions"]
        await act(handle, actor, "check" if "check" in legal else "call")
