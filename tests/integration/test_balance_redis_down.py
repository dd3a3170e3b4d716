"""Redis down: reads served stale from memory, writes fail fast; nothing lost or doubled."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from apis.balance.rest.app import create_app
from domain.balance.book import BalanceBook
from domain.balance.commands import Credit, Debit
from domain.balance.settings import BalanceSettings, balance_redis
from domain.errors import Unavailable
from infra.ports import free_port
from saga.stack.valkey import EmbeddedValkey
from tests.balance_support import SECRET, service_token


async def test_outage_serves_stale_reads_and_refuses_writes(tmp_path: Path) -> None:
    valkey = EmbeddedValkey(tmp_path / "valkey", free_port(), persistent=True)
    await valkey.start()
    settings = BalanceSettings(redis_url=valkey.url, balance_redis_timeout_seconds=0.5)
    redis = balance_redis(settings)
    book = BalanceBook.build(redis)
    token = service_token()
    headers = {"Authorization": f"Bearer {token}"}
    transport = httpx.ASGITransport(app=create_app(book, SECRET))
    try:
        await book.accounts.credit(Credit(account_id="ivy", amount=100, idempotency_key="c1"))
        await book.accounts.credit(Credit(account_id="ivy", amount=50, idempotency_key="c2"))
        await valkey.stop()

        stale = await book.accounts.get_balance("ivy")
        assert (stale.balance, stale.stale) == (150, True)
        started = time.perf_counter()
        with pytest.raises(Unavailable):
            await book.accounts.debit(Debit(account_id="ivy", amount=10, idempotency_key="d1"))
        assert time.perf_counter() - started < 3
        with pytest.raises(Unavailable):
            await book.accounts.get_balance("never-seen")

        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            read = await http.get("/api/accounts/ivy/balance", headers=headers)
            assert read.status_code == 200
            assert read.json()["stale"] is True
            assert "Warning" in read.headers
            write = await http.post(
                "/api/accounts/ivy/withdraw",
                json={"amount": 10},
                headers={**headers, "Idempotency-Key": "d1"},
            )
            assert write.status_code == 503
            assert write.headers["Retry-After"] == "1"
            assert write.json()["code"] == "UNAVAILABLE"
            health = await http.get("/api/health")
            assert health.status_code == 503

        await valkey.start()
        # The retry with the same key applies once; the earlier credits were not lost.
        done = await book.accounts.debit(Debit(account_id="ivy", amount=10, idempotency_key="d1"))
        again = await book.accounts.debit(Debit(account_id="ivy", amount=10, idempotency_key="d1"))
        assert (done.account.balance, again.replayed) == (140, True)
        fresh = await book.accounts.get_balance("ivy")
        assert (fresh.balance, fresh.stale) == (140, False)
        assert (await book.ledger.verify("ivy")).valid
    finally:
        await redis.aclose()
        await valkey.stop()
