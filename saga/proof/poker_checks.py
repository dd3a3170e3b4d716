"""What must hold for the tables after the faults: every hand once, every pot paid, no leak."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from typing import Any

import httpx

from domain.balance import keys
from domain.game.money import seat_account
from domain.gateway.tables import table_events_key
from infra.redis import RedisClient, is_cluster
from infra.tokens import TokenKind, issue_token
from saga.proof.checks import Check, check

_HAND_NUMBER = re.compile(r"-h(\d+)$")


@dataclass
class TableFacts:
    """One table after the run: its public event stream, its view, its pots and seats."""

    table_id: str
    events: list[dict[str, Any]]
    view: dict[str, Any]
    pots: dict[str, dict[str, Any]] = field(default_factory=dict)
    seat_balances: dict[str, int] = field(default_factory=dict)


async def gather_tables(
    redis: RedisClient, game_url: str, secret: str, table_ids: list[str], timeout: float = 60
) -> list[TableFacts]:
    """Read each table once its effects have caught up with its state (or `timeout` passed)."""
    token = issue_token(secret, "proof-check", kind=TokenKind.SERVICE, ttl_seconds=3600)
    facts = []
    async with httpx.AsyncClient(base_url=game_url, timeout=30) as http:
        for table_id in table_ids:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            fact = TableFacts(table_id, [], {})
            while True:
                try:
                    fact = await _read_table(redis, http, token, table_id)
                except (httpx.HTTPError, ValueError) as exc:
                    # Right after a worker restart, a query may wait on the dead worker's
                    # sticky queue first: ask again until the deadline, then report.
                    fact = TableFacts(table_id, [], {"error": repr(exc)})
                last = fact.events[-1]["seq"] if fact.events else 0
                if last == fact.view.get("last_event_seq") or loop.time() > deadline:
                    break
                await asyncio.sleep(0.5)
            facts.append(fact)
    return facts


async def _read_table(
    redis: RedisClient, http: httpx.AsyncClient, token: str, table_id: str
) -> TableFacts:
    view = (
        await http.get(f"/tables/{table_id}", headers={"Authorization": f"Bearer {token}"})
    ).json()
    entries: Any = await redis.xrange(
        table_events_key(table_id, cluster=is_cluster(redis)), "-", "+"
    )
    events = [json.loads(fields[b"data"]) for _, fields in entries]
    fact = TableFacts(table_id, events, view)
    for event in events:
        if event.get("kind") == "hand.ended":
            raw = await redis.get(keys.pot(table_id, str(event["hand_id"])))
            fact.pots[str(event["hand_id"])] = json.loads(raw) if raw else {}
    for seat in view.get("seats", []):
        account = keys.account(seat_account(table_id, seat["user_id"]))
        balance = await redis.hget(account, "balance")
        fact.seat_balances[str(seat["user_id"])] = int(balance or 0)
    return fact


def _hands(fact: TableFacts) -> tuple[list[str], set[str]]:
    started = [str(e["hand_id"]) for e in fact.events if e.get("kind") == "hand.started"]
    ended = {str(e["hand_id"]) for e in fact.events if e.get("kind") == "hand.ended"}
    return started, ended


def check_tables(tables: list[TableFacts]) -> list[Check]:
    """Every poker invariant of the proof."""
    once, paid, numbered, hidden, seats = [], [], [], [], []
    hands = 0
    for fact in tables:
        if "error" in fact.view:
            seats.append(f"{fact.table_id}: could not be read ({fact.view['error']})")
        started, ended = _hands(fact)
        hands += len(started)
        numbers = [int(m.group(1)) for h in started if (m := _HAND_NUMBER.search(h))]
        if len(set(started)) != len(started) or numbers != list(range(1, len(numbers) + 1)):
            once.append(f"{fact.table_id}: hands dealt {started}")
        live = (fact.view.get("hand") or {}).get("hand_id")
        unfinished = [h for h in started if h not in ended and h != live]
        once += [f"{fact.table_id}: {h} never ended" for h in unfinished]
        for event in fact.events:
            if event.get("kind") != "hand.ended":
                continue
            hand_id = str(event["hand_id"])
            pot = fact.pots.get(hand_id, {})
            owed = sum(p["amount"] for p in event["pots"]) + sum(event["returned"].values())
            if pot.get("status") != "SETTLED" or int(pot.get("total", -1)) != owed:
                paid.append(f"{hand_id}: pot {pot.get('status')} {pot.get('total')}, owed {owed}")
        seqs = [int(e.get("seq", 0)) for e in fact.events]
        if seqs != list(range(1, len(seqs) + 1)):
            numbered.append(f"{fact.table_id}: event numbers {seqs[:3]}...{seqs[-3:]}")
        hidden += [
            f"{fact.table_id}: {e.get('kind')} #{e.get('seq')}"
            for e in fact.events
            if e.get("kind") == "hole.cards" or ("cards" in e and e.get("kind") != "street.dealt")
        ]
        stacks = {s["user_id"]: int(s["stack"]) for s in fact.view.get("seats", [])}
        seats += [
            f"{fact.table_id}/{user}: seat account {fact.seat_balances.get(user)}, stack {stack}"
            for user, stack in stacks.items()
            if fact.seat_balances.get(user) != stack
        ]
    return [
        check("every hand dealt once and ended, none lost", hands, once),
        check("every pot paid in full (payouts + returned + rake)", hands, paid),
        check("table events numbered once each, none missing", len(tables), numbered),
        check("no hole card on a public channel", len(tables), hidden),
        check("every seat account holds the stack the table shows", len(tables), seats),
    ]
