"""Who may call: a JWT in metadata `authorization: Bearer <token>`."""

from __future__ import annotations

import time
from collections import OrderedDict

from grpc import aio

from domain.errors import DomainError, ErrorCode
from infra.tokens import Claims, InvalidToken, verify_token

# Service callers send the same token on every call: verifying it once per token (until it
# expires) saves an HMAC and a JSON decode on the hot path.
_VERIFIED: OrderedDict[tuple[str, str], Claims] = OrderedDict()
_VERIFIED_MAX = 10_000


def caller(context: aio.ServicerContext[object, object], secret: str) -> Claims:
    """The verified claims of the call's token; UNAUTHENTICATED without a valid one."""
    token = ""
    for key, value in context.invocation_metadata() or ():
        if key == "authorization":
            text = value.decode() if isinstance(value, bytes) else value
            scheme, _, token = text.partition(" ")
            if scheme.lower() != "bearer":
                token = ""
    if not token:
        raise DomainError(
            "metadata authorization: Bearer <token> is required", code=ErrorCode.UNAUTHENTICATED
        )
    known = _VERIFIED.get((secret, token))
    if known is not None and known.expires_at > time.time():
        return known
    try:
        claims = verify_token(secret, token)
    except InvalidToken as exc:
        raise DomainError(exc.reason, code=ErrorCode.UNAUTHENTICATED) from None
    _VERIFIED[(secret, token)] = claims
    if len(_VERIFIED) > _VERIFIED_MAX:
        _VERIFIED.popitem(last=False)
    return claims


def may_act_on(claims: Claims, account_id: str) -> None:
    """Service tokens act on any account; user tokens only on their own."""
    if not claims.is_service and claims.subject != account_id:
        raise DomainError("a user token may only act on its own account", code=ErrorCode.FORBIDDEN)


def service_only(claims: Claims) -> None:
    """Table pots are moved by the poker service, never by a player."""
    if not claims.is_service:
        raise DomainError("only service tokens may move table pots", code=ErrorCode.FORBIDDEN)
