"""The pollers' hot path: a kept `GET /orders/{id}` answer written straight to ASGI."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from apis.auth import authenticate, bearer_token, require_acting_for
from domain.checkout.status_watch import FROM_CACHE, StatusWatcher
from domain.errors import DomainError

ORDER_PATH = "/orders/{order_ledger_id}"
_ORDERS_PREFIX = "/orders/"


@dataclass(frozen=True)
class _RouteTemplate:
    """What the request telemetry reads of `scope["route"]`: the route's template."""

    path: str


_ORDER_ROUTE = _RouteTemplate(ORDER_PATH)


class CachedOrderRead:
    """The pollers' hot path: `GET /orders/{id}` of a cached order, answered below FastAPI.

    A polling player asks for the same unchanged order every 50 ms. When the order's answer
    is in the watcher's cache (the bytes `get_order` kept) and the caller's token is valid
    and acts for the order's customer, the answer is written straight to ASGI: no routing,
    no request object, no dependency resolution, no validation. Everything else (a query
    string, another method or path, a miss, a bad or missing token, a stranger) goes on to
    the FastAPI app unchanged, so every error is still its problem details.

    Installed as the innermost middleware: the request telemetry (request id, trace id, log
    line, metrics under the route's template) and tracing wrap both paths alike.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a cached order, else hand the request on."""
        body = _cached_answer(scope) if scope["type"] == "http" else None
        if body is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = _ORDER_ROUTE
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-length", str(len(body)).encode()),
                    (b"content-type", b"application/json"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _cached_answer(scope: Scope) -> bytes | None:
    path: str = scope["path"]
    if (
        scope["method"] != "GET"
        or scope.get("query_string")
        or scope.get("root_path")
        or not path.startswith(_ORDERS_PREFIX)
    ):
        return None
    app: FastAPI = scope["app"]
    watcher: StatusWatcher | None = getattr(app.state, "status_watcher", None)
    if watcher is None:
        return None
    # Cache keys are canonical UUID strings: any other spelling (or a longer path) misses
    # and is parsed, or refused, by the route.
    kept = watcher.cached(path[len(_ORDERS_PREFIX) :])
    if kept is None:
        return None
    token = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            token = bearer_token(value)
            break
    try:
        claims = authenticate(app.state.jwt_secret.get_secret_value(), token)
        require_acting_for(claims, kept.customer_id)
    except DomainError:
        return None
    # Where the request's log line (infra/http_telemetry.py) finds who called.
    scope.setdefault("state", {})["claims"] = claims
    FROM_CACHE.inc()
    return kept.body


def add_cached_read(app: FastAPI) -> None:
    """`CachedOrderRead` as the innermost middleware, inside the request telemetry.

    `add_middleware` would make it the outermost; Starlette builds the stack from
    `user_middleware` in order, outermost first, when the app first serves.
    """
    app.user_middleware.append(Middleware(CachedOrderRead))
