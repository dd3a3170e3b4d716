"""Free ports: never handed out twice in one process; self-picked ones keep to their own range."""

from __future__ import annotations

import socket

from infra.ports import SELF_PICKED_PORTS, free_port


def test_ports_are_free_distinct_and_in_their_range() -> None:
    shared = [free_port() for _ in range(50)]
    own = [free_port(between=SELF_PICKED_PORTS) for _ in range(50)]
    assert len(set(shared + own)) == 100
    lowest, highest = SELF_PICKED_PORTS
    assert all(lowest <= port <= highest for port in own)
    # A platform's parent picks from above the self-picked range, so the two never meet.
    assert all(port > highest for port in shared)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", own[0]))
