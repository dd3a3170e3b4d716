"""Who is calling: a bearer JWT on HTTP, `?token=` or an `auth` frame on the WebSocket."""

from __future__ import annotations

from fastapi import Request

from domain.errors import DomainError, ErrorCode
from infra.tokens import Claims, InvalidToken, verify_token


class Unauthenticated(DomainError):
    """No valid token."""

    code = ErrorCode.UNAUTHENTICATED


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer ...` header, if that is what it is."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate(secret: str, token: str | None, *, now: float | None = None) -> Claims:
    """Verified claims of `token`, or Unauthenticated saying why not."""
    if not token:
        raise Unauthenticated("a bearer token is required")
    try:
        return verify_token(secret, token, now=now)
    except InvalidToken as exc:
        raise Unauthenticated(exc.reason) from None


def request_claims(request: Request) -> Claims:
    """Claims of the request's bearer token (the auth middleware of HTTP routes)."""
    secret: str = request.app.state.gateway.settings.jwt_secret.get_secret_value()
    return authenticate(secret, bearer_token(request.headers.get("authorization")))
