"""Free loopback ports for tests, throwaway platforms and a process's own side servers."""

from __future__ import annotations

import random
import socket
from pathlib import Path

_LOWEST_PICKED_PORT = 20_000
# Ports a process picks for itself alone (not handed to another process to bind later) come
# from below the others: a platform's ports are picked by its parent and bound later by its
# children, so a child picking from the same range could take one of them first.
SELF_PICKED_PORTS = (10_000, _LOWEST_PICKED_PORT - 1)
_handed_out: set[int] = set()


def _ephemeral_floor() -> int:
    """The first port the OS hands to outgoing connections (Linux default 32768)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def _bindable(host: str, port: int) -> bool:
    """Whether nothing listens on host:port right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1", *, between: tuple[int, int] | None = None) -> int:
    """A port free right now, for tests and throwaway platforms.

    Picked below the OS's ephemeral range: a port the OS itself chose (bind to 0) can be given
    to some outgoing connection between this check and the server's bind, which made a
    platform with a dozen such ports fail to start now and then. Never the same port twice
    in one process. `between` (lowest, highest) narrows the range, e.g. `SELF_PICKED_PORTS`.
    """
    lowest, ceiling = between or (_LOWEST_PICKED_PORT, _ephemeral_floor() - 1)
    for _ in range(200 if ceiling - lowest > 1_000 else 0):
        port = random.randint(lowest, ceiling)
        if port in _handed_out or not _bindable(host, port):
            continue
        _handed_out.add(port)
        return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


# A Redis/Valkey Cluster node also listens on its port + 10000 (the cluster bus).
CLUSTER_BUS_OFFSET = 10_000


def free_cluster_port(host: str = "127.0.0.1") -> int:
    """A port free with its cluster-bus port (+10000), both below the ephemeral range.

    The client port comes from 10000-19999 and its bus from 20000-29999, where this process
    hands out no other port afterwards.
    """
    for _ in range(200):
        port = free_port(host, between=(10_000, _LOWEST_PICKED_PORT - 1))
        bus = port + CLUSTER_BUS_OFFSET
        if bus in _handed_out or bus >= _ephemeral_floor() or not _bindable(host, bus):
            continue
        _handed_out.add(bus)
        return port
    raise OSError("no port free together with its cluster-bus port (+10000)")
