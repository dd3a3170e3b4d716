"""Stream entries as the gateway and the game write them, and the event front in a subprocess."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import redis.asyncio as aioredis

from domain.events.model import HAND_STREAM
from domain.gateway.sessions import SESSION_STREAM
from infra.ports import free_port
from tests.conftest import SessionStack

ROOT = Path(__file__).resolve().parents[2]


def entry_text(entry_id: bytes | str) -> str:
    """A stream entry id as text."""
    return entry_id.decode() if isinstance(entry_id, bytes) else entry_id


async def session(
    redis: aioredis.Redis, kind: str, user_id: str, *, duration_ms: int = 60_000, **extra: str
) -> str:
    """Append a SESSION_STARTED or SESSION_ENDED as the gateway does; its entry id."""
    fields = {
        "type": kind,
        "connection_id": f"conn-{user_id}",
        "user_id": user_id,
        "client_type": "web",
        "instance_id": "gw-test",
        "at": repr(time.time()),
        **extra,
    }
    if kind == "SESSION_ENDED":
        fields |= {"duration_ms": str(duration_ms), "close_code": "1000"}
    return entry_text(await redis.xadd(SESSION_STREAM, fields))  # type: ignore[arg-type]


def hand(hand_id: str, net: dict[str, int], winners: list[str], **changes: Any) -> dict[str, Any]:
    """A HAND_ENDED document as activities/game.py writes it."""
    return {
        "type": "HAND_ENDED",
        "event_id": hand_id,
        "table_id": hand_id.split("-")[0],
        "hand_id": hand_id,
        "players": sorted(net),
        "winners": sorted(winners),
        "net": net,
        "rake": 0,
        "at": "2024-05-01T12:00:00+00:00",
        **changes,
    }


async def append_hand(redis: aioredis.Redis, document: dict[str, Any] | str) -> str:
    """Append one hand result (a document, or raw text for a malformed one)."""
    data = document if isinstance(document, str) else json.dumps(document)
    return entry_text(await redis.xadd(HAND_STREAM, {"data": data}))


@dataclass
class EventFront:
    """`saga api events` as its own process, so a test can SIGKILL it for real."""

    process: subprocess.Popen[bytes]
    url: str

    def wait(self, timeout: float = 30) -> int:
        """Its exit code once it ended."""
        return self.process.wait(timeout)

    def stop(self) -> None:
        """SIGTERM, then wait."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(15)

    async def healthy(self, timeout: float = 30) -> dict[str, Any]:
        """Its /health once it answers 200."""
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as http:
            while True:
                assert self.process.poll() is None, "the event front exited"
                try:
                    answer = await http.get("/health")
                    if answer.status_code == 200:
                        body: dict[str, Any] = answer.json()
                        return body
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "the event front did not become healthy"
                await asyncio.sleep(0.1)


def start_event_front(stack: SessionStack, log: Path, **env: str) -> EventFront:
    """Start `python -m saga api events` on the session's stack with `env` on top."""
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": stack.database_url,
        "REDIS_URL": stack.redis_url,
        "TEMPORAL_ADDRESS": stack.temporal_address,
        "SAGA_HOME": str(stack.home),
        "BIND_HOST": "127.0.0.1",
        "EVENT_PORT": str(port),
        "EVENT_BLOCK_MS": "100",
        **env,
    }
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "saga", "api", "events"],
            cwd=ROOT,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return EventFront(process, f"http://127.0.0.1:{port}")
