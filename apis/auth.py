"""Who may call the order-saga fronts: a bearer JWT, from a service or a user acting for itself.

The contract (DESIGN.md section 5, docs/security.md): every route that changes state, and every
read of one customer's data, needs `Authorization: Bearer <JWT>` signed with JWT_SECRET.
Service tokens (`saga token --service NAME`) may act for anyone; user tokens only for their
own subject. The catalog stays open. Errors are 401/403 problem details with the codes of
domain/errors.py.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

from domain.errors import Forbidden, Unauthenticated
from infra.tokens import Claims, InvalidToken, TokenKind, issue_token, verify_token

# auto_error=False: a missing header becomes our own problem details, not FastAPI's 403.
_BEARER = HTTPBearer(auto_error=False, description="A service token or a user JWT")
_SERVICE_TOKEN_TTL_SECONDS = 300


def install_auth(app: FastAPI, jwt_secret: SecretStr) -> None:
    """Make `app`'s routes verify tokens against `jwt_secret`."""
    app.state.jwt_secret = jwt_secret


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer ...` header, if that is what it is."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def verify_bearer(secret: str, authorization: str | None) -> Claims:
    """Verified claims of an Authorization header, or Unauthenticated saying why not."""
    token = bearer_token(authorization)
    if token is None:
        raise Unauthenticated("Authorization: Bearer <token> is required")
    try:
        return verify_token(secret, token)
    except InvalidToken as exc:
        raise Unauthenticated(exc.reason) from None


def caller(
    request: Request,
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)],
) -> Claims:
    """FastAPI dependency: the verified caller; 401 UNAUTHENTICATED without a valid token."""
    secret: SecretStr = request.app.state.jwt_secret
    return verify_bearer(secret.get_secret_value(), request.headers.get("authorization"))


def service_caller(claims: Annotated[Claims, Depends(caller)]) -> Claims:
    """FastAPI dependency: a service caller; 403 FORBIDDEN for a user token."""
    if not claims.is_service:
        raise Forbidden(f"{claims.subject!r} holds a user token; this route is for services")
    return claims


Caller = Annotated[Claims, Depends(caller)]
ServiceCaller = Annotated[Claims, Depends(service_caller)]


def require_acting_for(claims: Claims, subject: str) -> None:
    """Services act for anyone; a user only for itself (else 403 FORBIDDEN)."""
    if not claims.is_service and claims.subject != subject:
        raise Forbidden("a user token may only act for its own subject")


def service_headers(jwt_secret: SecretStr, service: str) -> dict[str, str]:
    """Headers of a short-lived service token, for one internal HTTP call."""
    token = issue_token(
        jwt_secret.get_secret_value(),
        service,
        kind=TokenKind.SERVICE,
        ttl_seconds=_SERVICE_TOKEN_TTL_SECONDS,
    )
    return {"Authorization": f"Bearer {token}"}
