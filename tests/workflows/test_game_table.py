"""The table workflow on a real Temporal server: seats, hands, refusals, events, the clock."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import redis.asyncio as aioredis
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.game_reconciliation import Reconciliation
from clients.balance import BalanceClient, TableMoney
from domain.game import verify_commitment
from tests.eventually import assert_eventually
from tests.game_support import (
    act,
    dealt,
    local_steps,
    open_table,
    play_passively,
    record_history,
    sit,
    table_config,
    table_events,
    table_worker,
    view,
)
from workflows.game.models import SitRequest
from workflows.game.reconciliation import BalanceReconciliationWorkflow
from workflows.game.table import TableWorkflow


def _code(exc: pytest.ExceptionInfo[WorkflowUpdateFailedError]) -> str | None:
    cause = exc.value.cause
    assert isinstance(cause, ApplicationError)
    return cause.type


async def test_two_players_sit_and_a_hand_is_dealt_by_itself(
    temporal_client: Client, redis: aioredis.Redis, task_queue: str
) -> None:
    config = table_config()
    async with table_worker(temporal_client, task_queue, redis):
        handle = await open_table(temporal_client, task_queue, config)
        await sit(handle, "ann", 500)
        await sit(handle, "bob", 500)

        table = await dealt(handle, "ann")
        hand = table["hand"]
        # Heads-up: the button posts the small blind and acts first before the flop.
        seats = {s["seat"]: s["user_id"] for s in table["seats"]}
        button_player = seats[hand["button_seat"]]
        assert hand["to_act"] == button_player
        assert hand["pot"] == 15
        assert len(table["hole_cards"]) == 2
        # Nobody sees another player's cards before the showdown.
        assert "hole_cards" not in await view(handle, "carl")
        assert "hole_cards" not in await view(handle)


async def test_refusals_change_nothing(
    temporal_client: Client, redis: aioredis.Redis, task_queue: str
) -> None:
    config = table_config(max_seats=2)
    async with table_worker(temporal_client, task_queue, redis):
        handle = await open_table(temporal_client, task_queue, config)
        await sit(handle, "ann", 500, seat=0)
        with pytest.raises(WorkflowUpdateFailedError) as taken:
            await sit(handle, "bob", 500, seat=0)
        assert _code(taken) == "SEAT_TAKEN"
        with pytest.raises(WorkflowUpdateFailedError) as again:
            await sit(handle, "ann", 500)
        assert _code(again) == "ALREADY_SEATED"
        with pytest.raises(WorkflowUpdateFailedError) as limits:
            await sit(handle, "bob", 5_000)
        assert _code(limits) == "VALIDATION_FAILED"
        await sit(handle, "bob", 500)
        with pytest.raises(WorkflowUpdateFailedError) as full:
            await sit(handle, "cat", 500)
        assert _code(full) == "TABLE_FULL"

        before = await dealt(handle)
        hand = before["hand"]
        assert isinstance(hand, dict)
        waiting = "bob" if hand["to_act"] == "ann" else "ann"
        with pytest.raises(WorkflowUpdateFailedError) as turn:
            await act(handle, waiting, "call")
        assert _code(turn) == "NOT_YOUR_TURN"
        with pytest.raises(WorkflowUpdateFailedError) as illegal:
            await act(handle, str(hand["to_act"]), "check")  # facing the big blind
        assert _code(illegal) == "ILLEGAL_ACTION"
        with pytest.raises(WorkflowUpdateFailedError) as small:
            await act(handle, str(hand["to_act"]), "raise", 11)  # below the minimum raise
        assert _code(small) == "ILLEGAL_ACTION"
        assert await view(handle) == before
        # A refused update never reaches the history: only accepted ones are recorded.
        history = await handle.fetch_history()
        accepted = [
            e
            for e in history.events
            if e.HasField("workflow_execution_update_accepted_event_attributes")
        ]
        assert len(accepted) == 2  # the two seats taken


async def test_a_hand_ends_settled_and_provably_fair(
    temporal_client: Client, redis: aioredis.Redis, task_queue: str
) -> None:
    config = table_config()
    async with table_worker(temporal_client, task_queue, redis):
        handle = await open_table(temporal_client, task_queue, config)
        await sit(handle, "ann", 500)
        await sit(handle, "bob", 500)

        hand_id = str((await dealt(handle))["hand"]["hand_id"])
        await play_passively(handle, hand_id)

        async def ended() -> list[dict[str, object]]:
            events = await table_events(redis, config.table_id)
            assert any(e["kind"] == "hand.ended" and e["hand_id"] == hand_id for e in events)
            return events

        events = await assert_eventually(ended)
        started = next(e for e in events if e["kind"] == "hand.started" and e["hand_id"] == hand_id)
        over = next(e for e in events if e["kind"] == "hand.ended" and e["hand_id"] == hand_id)
        # The deck was fixed before the first card: its salted hash matches the reveal.
        assert verify_commitment(over["deck"], over["salt"], started["deck_commitment"])  # type: ignore[arg-type]
        stacks = over["stacks"]
        assert isinstance(stacks, dict)
        assert sum(stacks.values()) + int(over["rake"]) == 1_000  # type: ignore[call-overload]
        # Public events never carry anyone's hole cards before the showdown.
        assert all(e["kind"] != "hole.cards" for e in events)
        kinds = [e["kind"] for e in events if e.get("hand_id") == hand_id]
        assert kinds[0] == "hand.started"
        assert {"blind.posted", "player.acted", "street.dealt", "showdown"} <= set(kinds)
        # Numbered by the table, each shown once, none missing.
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        # A hand's start and its end are one local activity each, the lobby's line with them:
        # the action that ends the hand waits for one call, not two.
        steps = await local_steps(handle)
        assert any(s.startswith(f"open pot {hand_id}") and s.endswith("; lobby") for s in steps)
        (ending,) = [s for s in steps if s.startswith(f"settle {hand_id}")]
        assert "hand.ended" in ending
        assert ending.endswith("; lobby")
        await record_history(handle, "hand_to_showdown")


async def test_the_table_continues_as_new_between_hands_with_its_stacks(
    temporal_client: Client, redis: aioredis.Redis, task_queue: str
) -> None:
    config = table_config(hands_per_run=1)
    async with table_worker(temporal_client, task_queue, redis):
        handle = await open_table(temporal_client, task_queue, config)
        first_run = (await handle.describe()).run_id
        await sit(handle, "ann", 500)
        await sit(handle, "bob", 500)

        hand_id = str((await dealt(handle))["hand"]["hand_id"])
        await play_passively(handle, hand_id)

        async def next_run() -> dict[str, Any]:
            assert (await handle.describe()).run_id != first_run
            table = await view(handle)
            assert table["hands_played"] >= 1
            return table

        table = await assert_eventually(next_run)
        events = await table_events(redis, config.table_id)
        ended = next(e for e in events if e["kind"] == "hand.ended" and e["hand_id"] == hand_id)
        carried = {s["user_id"]: s["stack"] for s in table["seats"]}
        if table["hand"] is None:
            assert carried == ended["stacks"]
        else:
            assert sum(carried.values()) + table["hand"]["pot"] == 1_000 - ended["rake"]
        # Event numbers go on across runs: the next run's first event follows the last.
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        first = temporal_client.get_workflow_handle(handle.id, run_id=first_run)
        await record_history(first, "continue_as_new_after_a_hand")


async def test_the_same_seat_request_twice_answers_the_same(
    temporal_client: Client, redis: aioredis.Redis, task_queue: str
) -> None:
    config = table_config()
    async with table_worker(temporal_client, task_queue, redis):
        handle = await open_table(temporal_client, task_queue, config)
        request = SitRequest("ann", 500, None, "key-1")
        first = await handle.execute_update(TableWorkflow.sit, request)
        second = await handle.execute_update(TableWorkflow.sit, request)
        assert first == second
        assert len((await view(handle))["seats"]) == 1


@asynccontextmanager
async def _heads_up_dealt(
    env: WorkflowEnvironment, redis: aioredis.Redis
) -> AsyncIterator[tuple[WorkflowHandle[Any, Any], str, dict[str, Any]]]:
    """Ann and Bob at a table with a 20 s clock, the first hand dealt: handle, table id, view."""
    task_queue = f"test-{uuid.uuid4()}"
    config = table_config(action_timeout_seconds=20)
    async with table_worker(env.client, task_queue, redis):
        handle = await open_table(env.client, task_queue, config)
        await sit(handle, "ann", 500)
        await sit(handle, "bob", 500)
        yield handle, config.table_id, await dealt(handle)


async def _timed_out(redis: aioredis.Redis, table_id: str) -> list[dict[str, Any]]:
    """The table's `player.acted` events that the clock made."""
    events = await table_events(redis, table_id)
    return [e for e in events if e["kind"] == "player.acted" and e.get("timed_out")]


async def test_the_clock_checks_or_folds_for_a_silent_player(
    time_skipping_env: WorkflowEnvironment, redis: aioredis.Redis
) -> None:
    async with _heads_up_dealt(time_skipping_env, redis) as (handle, table_id, table):
        silent = table["hand"]["to_act"]
        # Nobody acts: skipped time runs the clock out; facing the big blind, it is a fold.
        await time_skipping_env.sleep(25)

        async def folded() -> None:
            timed = await _timed_out(redis, table_id)
            assert timed, await table_events(redis, table_id)
            assert (timed[0]["user_id"], timed[0]["action"]) == (silent, "fold")

        await assert_eventually(folded)
        await record_history(handle, "action_clock_folds")


async def test_a_turn_after_a_slow_one_gets_its_whole_clock(
    time_skipping_env: WorkflowEnvironment, redis: aioredis.Redis
) -> None:
    async with _heads_up_dealt(time_skipping_env, redis) as (handle, table_id, table):
        first = table["hand"]["to_act"]
        second = "bob" if first == "ann" else "ann"
        await time_skipping_env.sleep(10)
        await act(handle, first, "call")
        # 25 s in: the first turn's 20 s are over, the second turn has had 15 of its 20.
        await time_skipping_env.sleep(15)
        assert await _timed_out(redis, table_id) == []
        # 35 s in: the second turn's clock ran out; facing no bet, it checks.
        await time_skipping_env.sleep(10)

        async def checked() -> None:
            timed = await _timed_out(redis, table_id)
            assert timed, await table_events(redis, table_id)
            assert (timed[0]["user_id"], timed[0]["action"]) == (second, "check")

        await assert_eventually(checked)


async def test_reconciliation_runs_on_its_timer_and_continues_as_new(
    time_skipping_env: WorkflowEnvironment, redis: aioredis.Redis
) -> None:
    client = time_skipping_env.client
    task_queue = f"test-{uuid.uuid4()}"
    money = TableMoney(BalanceClient("127.0.0.1:9", "unused"))
    reconciliation = Reconciliation(money, redis)
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[BalanceReconciliationWorkflow],
        activities=[reconciliation.reconcile_queued_moves],
    ):
        handle = await client.start_workflow(
            BalanceReconciliationWorkflow.run,
            args=[5.0, 2],
            id=f"reconcile-{uuid.uuid4()}",
            task_queue=task_queue,
        )
        first_run = (await handle.describe()).run_id

        async def renewed() -> None:
            assert (await handle.describe()).run_id != first_run

        # Two empty passes 5 s apart on skipped time, then a fresh run.
        await time_skipping_env.sleep(12)
        await assert_eventually(renewed)
    await record_history(
        client.get_workflow_handle(handle.id, run_id=first_run),
        "continue_as_new",
        kind="balance_reconciliation",
    )
