"""Who is calling, for every front: a bearer JWT from a service or a user acting for itself.

The contract (DESIGN.md section 5, docs/security.md): every route that changes state, and every
read of one user's data, needs a JWT signed with JWT_SECRET, sent as `Authorization: Bearer
<JWT>` on HTTP, metadata `authorization` on gRPC, or `?token=` / an `auth` frame on the
WebSocket. Service tokens (`saga token --service NAME`) act for anyone; user tokens only for
their own subject. This one module parses, verifies (with a cache) and decides; the FastAPI
dependencies below, the gRPC servicer and the WebSocket all call it.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

from domain.errors import Forbidden, Unauthenticated
from infra.tokens import Claims, InvalidToken, TokenKind, issue_token, verify_token

# auto_error=False: a missing header becomes our own problem details, not FastAPI's 403.
_BEARER = HTTPBearer(auto_error=False, description="A service token or a user JWT")
_SERVICE_TOKEN_TTL_SECONDS = 300

# Service callers send the same token on every call: verifying it once per token (until it
# expires) saves an HMAC and a JSON decode on the hot path.
_VERIFIED: OrderedDict[tuple[str, str], Claims] = OrderedDict()
_VERIFIED_MAX = 10_000


def bearer_token(authorization: str | bytes | None) -> str | None:
    """The token of an `Authorization: Bearer ...` value, if that is what it is."""
    if isinstance(authorization, bytes):
        authorization = authorization.decode(errors="replace")
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate(secret: str, token: str | None, *, now: float | None = None) -> Claims:
    """Verified claims of `token`, or Unauthenticated saying why not.

    A token verified before is answered from a bounded cache until it expires (only when
    `now` is not forced, which tests use to travel in time).
    """
    if not token:
        raise Unauthenticated("a bearer token is required (Authorization: Bearer <token>)")
    if now is None:
        known = _VERIFIED.get((secret, token))
        if known is not None and known.expires_at > time.time():
            return known
    try:
        claims = verify_token(secret, token, now=now)
    except InvalidToken as exc:
        raise Unauthenticated(exc.reason) from None
    if now is None:
        _VERIFIED[(secret, token)] = claims
        if len(_VERIFIED) > _VERIFIED_MAX:
            _VERIFIED.popitem(last=False)
    return claims


def require_acting_for(claims: Claims, subject: str) -> None:
    """Services act for anyone; a user only for itself (else FORBIDDEN)."""
    if not claims.is_service and claims.subject != subject:
        raise Forbidden("a user token may only act for its own subject")


def require_service(claims: Claims, what: str = "this call is for services") -> None:
    """Only service tokens pass (else FORBIDDEN)."""
    if not claims.is_service:
        raise Forbidden(f"{claims.subject!r} holds a user token; {what}")


def install_auth(app: FastAPI, jwt_secret: SecretStr) -> None:
    """Make `app`'s routes verify tokens against `jwt_secret`."""
    app.state.jwt_secret = jwt_secret


def request_claims(request: Request) -> Claims:
    """The verified caller of an HTTP request (the app was given its secret by install_auth)."""
    secret: SecretStr = request.app.state.jwt_secret
    claims = authenticate(
        secret.get_secret_value(), bearer_token(request.headers.get("authorization"))
    )
    # Where the request's log line (infra/http_telemetry.py) finds who called.
    request.state.claims = claims
    return claims


async def caller(
    request: Request,
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)],
) -> Claims:
    """FastAPI dependency: the verified caller; 401 UNAUTHENTICATED without a valid token."""
    return request_claims(request)


async def service_caller(claims: Annotated[Claims, Depends(caller)]) -> Claims:
    """FastAPI dependency: a service caller; 403 FORBIDDEN for a user token."""
    require_service(claims, "this route is for services")
    return claims


Caller = Annotated[Claims, Depends(caller)]
ServiceCaller = Annotated[Claims, Depends(service_caller)]


def service_headers(jwt_secret: SecretStr, service: str) -> dict[str, str]:
    """Headers of a short-lived service token, for one internal HTTP call."""
    token = issue_token(
        jwt_secret.get_secret_value(),
        service,
        kind=TokenKind.SERVICE,
        ttl_seconds=_SERVICE_TOKEN_TTL_SECONDS,
    )
    return {"Authorization": f"Bearer {token}"}
