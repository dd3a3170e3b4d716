"""temporal/dev-server.yaml becomes the dev server's flags."""

from __future__ import annotations

from saga.stack.temporal import dev_server_args, load_dev_server_config


def _pairs(args: list[str], flag: str) -> list[str]:
    return [args[i + 1] for i, arg in enumerate(args) if arg == flag]


def test_sqlite_runs_in_wal_mode_with_normal_sync() -> None:
    pragmas = _pairs(dev_server_args(load_dev_server_config()), "--sqlite-pragma")
    assert "journal_mode=wal" in pragmas
    assert "synchronous=normal" in pragmas


def test_task_queue_poll_limits_are_raised_as_json_values() -> None:
    values = _pairs(dev_server_args(load_dev_server_config()), "--dynamic-config-value")
    assert "history.transferProcessorMaxPollRPS=200" in values
    assert "history.timerProcessorMaxPollRPS=200" in values
    assert "frontend.enableUpdateWorkflowExecution=true" in values


def test_order_search_attributes_are_declared_with_their_types() -> None:
    attributes = _pairs(dev_server_args(load_dev_server_config()), "--search-attribute")
    for expected in (
        "OrderStatus=Keyword",
        "CustomerId=Keyword",
        "OrderTotalCents=Int",
        "FailureReason=Text",
    ):
        assert expected in attributes


def test_flags_come_from_the_given_config() -> None:
    config = {"sqlite_pragmas": {"cache_size": -2000}, "search_attributes": {"X": "Bool"}}
    assert dev_server_args(config) == [
        "--sqlite-pragma",
        "cache_size=-2000",
        "--search-attribute",
        "X=Bool",
    ]
