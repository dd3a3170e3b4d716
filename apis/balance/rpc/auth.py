"""Who may call the gRPC front: a JWT in metadata `authorization: Bearer <token>` (apis/auth.py)."""

from __future__ import annotations

from grpc import aio

from apis.auth import authenticate, bearer_token, require_acting_for, require_service
from infra.tokens import Claims


def caller(context: aio.ServicerContext[object, object], secret: str) -> Claims:
    """The verified claims of the call's token; UNAUTHENTICATED without a valid one."""
    header: str | bytes | None = None
    for key, value in context.invocation_metadata() or ():
        if key == "authorization":
            header = value
    return authenticate(secret, bearer_token(header))


def may_act_on(claims: Claims, account_id: str) -> None:
    """Service tokens act on any account; user tokens only on their own."""
    require_acting_for(claims, account_id)


def service_only(claims: Claims) -> None:
    """Table pots are moved by the poker service, never by a player."""
    require_service(claims, "only service tokens may move table pots")
