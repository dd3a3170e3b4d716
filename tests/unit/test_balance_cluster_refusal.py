"""On a Redis Cluster the balance service refuses to start, with a line that says why."""

from __future__ import annotations

import pytest

from domain.balance.settings import BalanceSettings, ClusterNotSupported, balance_redis


def test_the_balance_service_refuses_a_cluster() -> None:
    settings = BalanceSettings(redis_url="redis://127.0.0.1:1/0", redis_cluster=True)
    with pytest.raises(ClusterNotSupported, match="REDIS_CLUSTER"):
        balance_redis(settings)


def test_one_redis_is_accepted() -> None:
    client = balance_redis(BalanceSettings(redis_url="redis://127.0.0.1:1/0"))
    assert client.connection_pool.connection_kwargs["port"] == 1
