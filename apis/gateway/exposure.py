"""What the gateway's proxy exposes: an allow-list for our services, a deny-list for the rest.

Players reach the backends only through `/api/{service}/...`. For our own services the paths a
player may use are listed (the edge's orders, the balance's accounts and reservations);
everything else there (health internals, metrics, docs, inventory and payments, which are not
upstreams at all) is refused. External upstreams (game, player, event) get a deny-list of
internal surfaces. Paths that could step outside the upstream's base URL, or be read
differently by another parser (dot segments, `%`, `\\`, `?`, `#`, control characters, an
absolute URL), are refused whatever the upstream.
"""

from __future__ import annotations

import re

# Path patterns players may use on our own upstreams (after the `/api/{service}/` prefix).
_ALLOWED: dict[str, re.Pattern[str]] = {
    "edge": re.compile(r"orders(/[A-Za-z0-9-]{1,64})?"),
    "balance": re.compile(
        r"accounts/[A-Za-z0-9_-]{1,64}"
        r"(/(balance|deposit|withdraw|transactions|ledger|ledger/verify|reservations))?"
        r"|reservations/[A-Za-z0-9_-]{1,64}/(commit|release)"
    ),
}
# Never reachable on any upstream, whatever it serves there.
_REFUSED_SEGMENTS = frozenset(
    {
        "internal",
        "_internal",
        "admin",
        "debug",
        "metrics",
        "health",
        "ready",
        "actuator",
        "docs",
        "redoc",
        "openapi.json",
        ".well-known",
        "server-status",
    }
)
# Characters a decoded path must not carry: each was encoded by the client for a reason.
_UNSAFE = re.compile(r"[%\\?#\x00-\x20\x7f]")
# Headers a client could use to make an upstream believe another host, path or method.
SPOOFABLE_HEADERS = frozenset(
    {
        "forwarded",
        "x-forwarded-host",
        "x-forwarded-port",
        "x-forwarded-prefix",
        "x-forwarded-server",
        "x-real-ip",
        "x-original-url",
        "x-rewrite-url",
        "x-original-host",
        "x-http-method-override",
        "x-http-method",
        "x-method-override",
    }
)


def refusal(service: str, path: str) -> str | None:
    """Why `path` may not be proxied to `service`, or None when it may."""
    if _UNSAFE.search(path) or "://" in path or path.startswith("/") or "//" in path:
        return "the path carries characters or segments the proxy does not forward"
    segments = [segment.lower() for segment in path.split("/")]
    if any(segment in {".", ".."} for segment in segments):
        return "dot segments are not forwarded"
    if any(segment in _REFUSED_SEGMENTS for segment in segments):
        return "internal and admin paths are not exposed"
    allowed = _ALLOWED.get(service)
    if allowed is not None and allowed.fullmatch(path) is None:
        return f"the {service} service exposes no such path to players"
    return None
