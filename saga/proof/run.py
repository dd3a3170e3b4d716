"""One proof run: platform up, load and faults for a while, settle, check, report, tear down."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
from temporalio.client import Client

from infra.redis import connect_redis
from infra.tokens import TokenKind, issue_token
from saga.proof.balance import BalanceLoad
from saga.proof.balance_checks import check_balances, chips_lost, economy_supply, gather_accounts
from saga.proof.checkout import OrderLoad
from saga.proof.checkout_checks import check_orders, failure_reasons, gather_facts, wait_settled
from saga.proof.checks import Check, check
from saga.proof.event_checks import check_events, stored_counts
from saga.proof.faults import DEFAULT_TARGETS, FaultInjector
from saga.proof.platform import ProofPlatform
from saga.proof.poker import PokerLoad
from saga.proof.poker_checks import check_tables, gather_tables
from saga.proof.report import ProofReport, read_bad_inputs
from saga.proof.sessions import SessionLoad


@dataclass(frozen=True)
class ProofConfig:
    """How long, how hard and what to kill."""

    seconds: float = 300.0
    order_rate: float = 4.0
    balance_rate: float = 40.0
    balance_clients: int = 6
    poker_tables: int = 2
    poker_players: int = 3
    fault_interval: float = 10.0
    targets: tuple[str, ...] = DEFAULT_TARGETS
    answer_timeout: float = 120.0
    settle_timeout: float = 180.0
    seed: int | None = None
    command: str = "saga prove"
    # Redis as a 3-master Valkey Cluster with replicas; `valkey` then kills a master.
    cluster: bool = False


@dataclass
class Progress:
    """Live figures for a progress display."""

    phase: str
    elapsed: float = 0.0
    orders: OrderLoad | None = None
    balance: BalanceLoad | None = None
    faults: FaultInjector | None = None
    log: list[str] = field(default_factory=list)


async def prove(
    config: ProofConfig, home: Path, on_progress: Callable[[Progress], None] = lambda _: None
) -> ProofReport:
    """Run the whole proof in `home` (a fresh SAGA_HOME) and report what it found."""
    rng = random.Random(config.seed)
    progress = Progress("starting the platform")
    on_progress(progress)
    platform = ProofPlatform.prepare(home, cluster=config.cluster)
    await platform.start()
    token = issue_token(
        platform.jwt_secret,
        "chaos",
        kind=TokenKind.SERVICE,
        ttl_seconds=int(config.seconds + config.answer_timeout + config.settle_timeout) + 3600,
    )
    balance = BalanceLoad(
        platform.balance_grpc_address,
        token,
        rng,
        clients=config.balance_clients,
        rate=config.balance_rate,
        answer_timeout=config.answer_timeout,
    )
    poker = PokerLoad(
        platform.url("game_port"),
        platform.url("balance_http_port"),
        platform.jwt_secret,
        rng,
        tables=config.poker_tables,
        players=config.poker_players,
    )
    sessions = SessionLoad(
        platform.url("gateway_port").replace("http://", "ws://") + "/ws", platform.jwt_secret, rng
    )
    try:
        async with httpx.AsyncClient() as http:
            orders = OrderLoad(
                platform.url("edge_port"),
                platform.url("inventory_port"),
                token,
                config.order_rate,
                rng,
                answer_timeout=config.answer_timeout,
            )
            progress.phase, progress.orders, progress.balance = "seeding", orders, balance
            on_progress(progress)
            await orders.seed(http)
            await balance.seed()
            await poker.seed(http)
            faults = FaultInjector(platform, config.targets, config.fault_interval, rng=rng)
            faults.on_fault = lambda f: progress.log.append(f"{f.at:5.1f}s  SIGKILL {f.target}")
            progress.faults = faults
            load_seconds = await _load(
                config, orders, balance, poker, sessions, faults, http, progress, on_progress
            )
            progress.phase = "waiting for killed parts to serve again"
            on_progress(progress)
            await faults.settle()
            healthy = await _all_healthy(platform, timeout=config.settle_timeout)
            progress.phase = "asking again for unanswered calls"
            on_progress(progress)
            await orders.resolve_unanswered(http)
            await balance.finish()
            progress.phase = "waiting for every saga to settle"
            on_progress(progress)
            report = await _verify(platform, config, orders, balance, poker, faults)
            report.load_seconds = load_seconds
            report.checks.insert(0, healthy)
            return report
    finally:
        progress.phase = "stopping the platform"
        on_progress(progress)
        await balance.close()
        await poker.close()
        await platform.stop()


async def _load(
    config: ProofConfig,
    orders: OrderLoad,
    balance: BalanceLoad,
    poker: PokerLoad,
    sessions: SessionLoad,
    faults: FaultInjector,
    http: httpx.AsyncClient,
    progress: Progress,
    on_progress: Callable[[Progress], None],
) -> float:
    """Orders, balance calls and faults together for `config.seconds`; the seconds it took.

    The faults stop at `config.seconds`; the load goes on until a hand has ended (at most
    `config.answer_timeout` more), so a slow machine still proves a hand can be finished.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    stop = asyncio.Event()

    def clock() -> float:
        return loop.time() - started

    no_more_faults = asyncio.Event()
    tasks = [
        asyncio.create_task(orders.run(stop, http)),
        asyncio.create_task(balance.run(stop)),
        asyncio.create_task(poker.run(stop)),
        asyncio.create_task(sessions.run(stop)),
        asyncio.create_task(faults.run(no_more_faults, clock)),
    ]
    progress.phase = "load under faults"
    while clock() < config.seconds and not any(t.done() for t in tasks):
        progress.elapsed = clock()
        on_progress(progress)
        await asyncio.sleep(0.5)
    no_more_faults.set()
    # A slow machine may spend the whole window on one hand and the kills around it: the load
    # goes on, without new faults, until a hand has been played to the end (bounded).
    progress.phase = "load until a hand has ended"
    deadline = clock() + config.answer_timeout
    while poker.stats.hands_ended == 0 and clock() < deadline:
        progress.elapsed = clock()
        on_progress(progress)
        await asyncio.sleep(0.5)
    stop.set()
    load_seconds = clock()
    progress.phase = "draining calls in flight"
    on_progress(progress)
    # Every call retries for at most answer_timeout, so this wait is bounded too.
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=config.answer_timeout + 30)
    return load_seconds


def restarted_check(faults: FaultInjector) -> Check:
    """Every kill of the run was followed by a restart (a new pid that answers healthy)."""
    return check(
        "every killed part was restarted by the supervisor",
        len(faults.faults),
        [f"{f.target} (killed at {f.at:.0f}s) never came back" for f in faults.unrecovered()],
    )


async def _all_healthy(platform: ProofPlatform, timeout: float) -> Check:
    """Every service and stack part answers its health probe again."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    targets = platform.targets()
    while True:
        down = [t for t in targets if not await platform.healthy(t)]
        if not down or loop.time() > deadline:
            return check("every part serves again after the faults", len(targets), down)
        await asyncio.sleep(1.0)


async def _verify(
    platform: ProofPlatform,
    config: ProofConfig,
    orders: OrderLoad,
    balance: BalanceLoad,
    poker: PokerLoad,
    faults: FaultInjector,
) -> ProofReport:
    """Wait for the sagas to settle, then read every table and check every invariant."""
    temporal = await Client.connect(platform.temporal_address)
    conn = await asyncpg.connect(platform.database_url)
    redis = connect_redis(platform.redis_url, cluster=platform.cluster is not None)
    try:
        settle = await wait_settled(conn, temporal, orders, config.settle_timeout)
        facts = await gather_facts(conn, temporal, orders)
        order_checks = check_orders(orders, facts)
        accounts = await gather_accounts(redis, balance)
        balance_checks = check_balances(balance, accounts, await economy_supply(redis))
        tables = await gather_tables(
            redis, platform.url("game_port"), platform.jwt_secret, poker.table_ids
        )
        poker_checks = check_tables(tables)
        event_checks = check_events(await stored_counts(redis, platform.database_url))
    finally:
        await conn.close()
        await redis.aclose()
    statuses = [r["status"] for r in facts.ledger.values()]
    recovery = {
        target: max(f.recovered_after or -1.0 for f in faults.faults if f.target == target)
        for target in faults.by_target()
    }
    kills = restarted_check(faults)
    lost = [c for c in order_checks if "none lost" in c.name or "none stuck" in c.name]
    return ProofReport(
        command=config.command,
        load_seconds=0.0,
        orders_submitted=len(orders.submissions),
        orders_accepted=len(orders.accepted()),
        orders_declined=sum(s.status_code == 402 for s in orders.submissions),
        orders_confirmed=statuses.count("CONFIRMED"),
        orders_failed=statuses.count("FAILED"),
        failure_reasons=failure_reasons(facts),
        edge_answers=dict(orders.answers),
        balance_calls=balance.acknowledged,
        balance_refused=len(balance.refused),
        balance_answers=dict(balance.answers),
        faults=faults.by_target(),
        slowest_recovery_seconds=recovery,
        settle_seconds=settle,
        bad_inputs=read_bad_inputs(),
        orders_lost=sum(len(c.offenders) for c in lost),
        chips_lost=chips_lost(balance, accounts),
        hands_played=sum(1 for t in tables for e in t.events if e.get("kind") == "hand.ended"),
        poker_actions=poker.stats.actions,
        checks=[kills, *order_checks, *balance_checks, *poker_checks, *event_checks],
    )
