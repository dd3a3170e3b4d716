"""A table action's round trip through the whole platform, against the engine's own floor.

Starts a real `saga up` on free ports. Players connect to the gateway's WebSocket, sit at
tables of the game service and act as fast as the table lets them. Measured per action:
`table.action` sent -> `table.action.result` received (round trip), and -> the `player.acted`
event on `table:{id}` (what the other players see). The floor, on the same Temporal server and
at the same number of busy tables: a Workflow Update to a workflow that does nothing else
(bench/noop_table.py), each "table" updated back to back by this process.

    .venv/bin/python -m bench.poker [--seconds 15] [--busy 1,50] [--rounds 1]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import websockets
from pydantic import SecretStr
from temporalio.client import Client
from temporalio.worker import Worker

from apis.auth import service_headers
from bench.cpu import tree_cpu
from bench.noop_table import NoopTableWorkflow
from bench.order_saga import start_platform
from infra.settings import DEV_JWT_SECRET
from infra.tokens import issue_token


@dataclass
class Samples:
    """Latencies in seconds, and what went wrong."""

    round_trip: list[float] = field(default_factory=list)
    to_event: list[float] = field(default_factory=list)
    errors: int = 0
    timed_out: int = 0
    dropped: int = 0

    def p(self, values: list[float], q: float) -> float:
        """Quantile `q` in ms."""
        ordered = sorted(values)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000


class Player:
    """One WebSocket: replies by `ref`, and the table's `player.acted` events."""

    def __init__(self, user: str, ws: Any, samples: Samples) -> None:
        self.user = user
        self.ws = ws
        self._samples = samples
        self._replies: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.acted: asyncio.Queue[float] = asyncio.Queue()
        # Set by each `hand.started` on the table: the next hand is there to be read.
        self.dealt = asyncio.Event()
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                frame = json.loads(raw)
                ref = frame.get("ref")
                if ref in self._replies:
                    self._replies.pop(ref).set_result(frame)
                elif frame.get("type") == "event":
                    data = frame["data"]
                    if data.get("kind") == "hand.started":
                        self.dealt.set()
                    elif data.get("kind") == "player.acted":
                        self._samples.timed_out += bool(data.get("timed_out"))
                        if data.get("user_id") == self.user:
                            self.acted.put_nowait(time.perf_counter())
        except websockets.ConnectionClosed:
            self._samples.dropped += 1

    async def request(self, frame: dict[str, Any]) -> dict[str, Any]:
        """Send and wait for the reply."""
        ref = uuid.uuid4().hex[:12]
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._replies[ref] = future
        await self.ws.send(json.dumps({**frame, "id": ref}))
        return await asyncio.wait_for(future, 30)

    async def close(self) -> None:
        """Close the socket."""
        self._task.cancel()
        await self.ws.close()


def _next_action(hand: dict[str, Any], actor: str) -> str:
    bets = hand.get("street_bets", {})
    return "call" if bets.get(actor, 0) < max(bets.values(), default=0) else "check"


async def busy_table(
    http: httpx.AsyncClient, table_id: str, players: dict[str, Player], until: float, s: Samples
) -> None:
    """Act as fast as the table allows until `until`."""
    hand: dict[str, Any] | None = None
    while time.perf_counter() < until:
        try:
            hand = await _one_action(http, table_id, players, hand, s)
        except (TimeoutError, websockets.ConnectionClosed, httpx.HTTPError) as exc:
            # A dropped socket or a refused request is reported, and the table plays on.
            s.errors += 1
            print(f"table {table_id}: {type(exc).__name__} {exc}", flush=True)
            hand = None
            await asyncio.sleep(0.5)


async def _one_action(
    http: httpx.AsyncClient,
    table_id: str,
    players: dict[str, Player],
    hand: dict[str, Any] | None,
    s: Samples,
) -> dict[str, Any] | None:
    """One action of whoever is to act; the hand as it stands after it (None: look again).

    Between hands it waits for the table's `hand.started` event (or a second) before it reads
    the table, as a player's client would: polling every 50 ms made each action cost several
    queries of the table workflow, load that the floor does not carry.
    """
    if hand is None or hand.get("to_act") is None:
        watcher = next(iter(players.values()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(watcher.dealt.wait(), 1.0)
        watcher.dealt.clear()
        table = (await http.get(f"/tables/{table_id}")).json()
        hand = table["hand"]
        if hand is None or hand.get("to_act") is None:
            return None
    actor = str(hand["to_act"])
    player = players[actor]
    while not player.acted.empty():
        player.acted.get_nowait()
    started = time.perf_counter()
    reply = await player.request(
        {"type": "table.action", "table_id": table_id, "action": _next_action(hand, actor)}
    )
    answered = time.perf_counter()
    if reply.get("type") != "table.action.result":
        s.errors += 1
        return None
    s.round_trip.append(answered - started)
    try:
        seen = await asyncio.wait_for(player.acted.get(), 10)
    except TimeoutError:
        s.errors += 1  # the event never came: counted, not timed
    else:
        s.to_event.append(seen - started)
    after: dict[str, Any] | None = reply["result"].get("hand")
    return after if after and after.get("hand_id") == hand.get("hand_id") else None


async def run_tables(
    env: dict[str, str], busy: int, seconds: float, http_game: httpx.AsyncClient
) -> Samples:
    """`busy` heads-up tables of players acting back to back for `seconds`."""
    samples = Samples()
    balance = f"http://127.0.0.1:{env['BALANCE_HTTP_PORT']}"
    gateway = f"ws://127.0.0.1:{env['GATEWAY_PORT']}/ws"
    service = service_headers(SecretStr(DEV_JWT_SECRET), "bench")
    run = uuid.uuid4().hex[:6]
    tables: list[tuple[str, dict[str, Player]]] = []
    async with httpx.AsyncClient(base_url=balance, timeout=30) as bank:
        for t in range(busy):
            opened = await http_game.post(
                "/tables",
                json={
                    "name": f"bench {run} {t}",
                    "small_blind": 1,
                    "big_blind": 2,
                    "min_buy_in": 100,
                    "max_buy_in": 100_000,
                    "max_seats": 2,
                    "action_timeout_seconds": 30,
                },
            )
            table_id = opened.json()["table_id"]
            players: dict[str, Player] = {}
            for p in ("a", "b"):
                user = f"b{run}-{t}-{p}"
                await bank.post(
                    f"/api/accounts/{user}/deposit",
                    json={"amount": 1_000_000},
                    headers={**service, "Idempotency-Key": f"fund-{user}"},
                )
                sat = await http_game.post(
                    f"/tables/{table_id}/seats",
                    json={"user_id": user, "buy_in": 100_000},
                    headers={"Idempotency-Key": f"sit-{user}"},
                )
                assert sat.status_code == 201, sat.text
                token = issue_token(DEV_JWT_SECRET, user)
                ws = await websockets.connect(f"{gateway}?token={token}", max_queue=None)
                player = Player(user, ws, samples)
                players[user] = player
                await player.request({"type": "subscribe", "channel": f"table:{table_id}"})
            tables.append((table_id, players))
    until = time.perf_counter() + seconds
    await asyncio.gather(*(busy_table(http_game, t, p, until, samples) for t, p in tables))
    for _, players in tables:
        for player in players.values():
            await player.close()
    return samples


async def run_floor(client: Client, busy: int, seconds: float) -> Samples:
    """`busy` no-op workflows, each updated back to back for `seconds`."""
    samples = Samples()
    queue = f"bench-noop-table-{uuid.uuid4().hex[:6]}"
    async with Worker(client, task_queue=queue, workflows=[NoopTableWorkflow]):
        for i in range(busy):
            await client.start_workflow(NoopTableWorkflow.run, id=f"{queue}-{i}", task_queue=queue)
        # By workflow id, not run: updates follow the workflow as it continues as new.
        handles = [client.get_workflow_handle(f"{queue}-{i}") for i in range(busy)]
        until = time.perf_counter() + seconds

        async def loop(handle: Any) -> None:
            while time.perf_counter() < until:
                started = time.perf_counter()
                await handle.execute_update(NoopTableWorkflow.act, "call")
                samples.round_trip.append(time.perf_counter() - started)

        await asyncio.gather(*(loop(h) for h in handles))
        for handle in handles:
            await handle.signal(NoopTableWorkflow.stop)
    return samples


async def run(args: argparse.Namespace, env: dict[str, str]) -> None:
    """Warm up, then each load level: floor, then tables; print medians and ratios."""
    client = await Client.connect(f"127.0.0.1:{env['TEMPORAL_PORT']}")
    game = f"http://127.0.0.1:{env['GAME_PORT']}"
    headers = service_headers(SecretStr(DEV_JWT_SECRET), "bench")
    async with httpx.AsyncClient(base_url=game, timeout=30, headers=headers) as http:
        await run_floor(client, 1, 2)
        await run_tables(env, 1, 3, http)
        for busy in args.busy:
            for _ in range(args.rounds):
                before = tree_cpu(os.getpid())
                floor = await run_floor(client, busy, args.seconds)
                between = tree_cpu(os.getpid())
                real = await run_tables(env, busy, args.seconds, http)
                after = tree_cpu(os.getpid())
                f50, f99 = floor.p(floor.round_trip, 0.5), floor.p(floor.round_trip, 0.99)
                r50, r99 = real.p(real.round_trip, 0.5), real.p(real.round_trip, 0.99)
                e50, e99 = real.p(real.to_event, 0.5), real.p(real.to_event, 0.99)
                print(
                    f"{busy:>3} busy tables  floor (no-op Update) p50 {f50:6.1f} p99 {f99:6.1f} ms"
                    f" | table.action round trip p50 {r50:6.1f} ms p99 {r99:6.1f} ms"
                    f" ({r50 / f50:.2f}x, {r99 / f99:.2f}x)"
                    f" | action -> player.acted p50 {e50:6.1f} ms p99 {e99:6.1f} ms"
                    f" ({e50 / f50:.2f}x, {e99 / f99:.2f}x)"
                    f" | {len(real.round_trip)} actions, {real.errors} errors,"
                    f" {real.timed_out} clocks ran out, {real.dropped} sockets dropped",
                    flush=True,
                )
                _print_cpu(before, between, after, len(floor.round_trip), len(real.round_trip))


def _print_cpu(
    before: Counter[str], between: Counter[str], after: Counter[str], floor: int, real: int
) -> None:
    """CPU ms per action by process: where an action's cost goes, floor beside table."""
    floor_cpu, real_cpu = between.copy(), after.copy()
    floor_cpu.subtract(before)
    real_cpu.subtract(between)
    kinds = [k for k, ms in real_cpu.most_common() if ms / max(real, 1) >= 0.05]
    cells = ", ".join(f"{k} {real_cpu[k] / max(real, 1):.2f}" for k in kinds)
    total = sum(real_cpu.values()) / max(real, 1)
    floor_total = sum(floor_cpu.values()) / max(floor, 1)
    print(f"    CPU ms per action: table {total:.2f} ({cells}); floor {floor_total:.2f}")


def main() -> None:
    """Start a platform, measure, stop it."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--busy", type=lambda v: [int(x) for x in v.split(",")], default=[1, 50])
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="saga-bench-poker-") as home:
        process, env = start_platform(Path(home))
        try:
            asyncio.run(run(args, env))
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=60)


if __name__ == "__main__":
    main()
