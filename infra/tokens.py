"""JWTs that every front accepts: user tokens for players, service tokens for internal callers."""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import jwt

ISSUER = "saga"
ALGORITHM = "HS256"
_LEEWAY_SECONDS = 5


class TokenKind(StrEnum):
    """Who holds a token."""

    USER = "user"
    SERVICE = "service"


class InvalidToken(Exception):
    """A token that must be refused; `reason` says why, for the client and the logs."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Claims:
    """The verified identity carried by a token."""

    subject: str
    kind: TokenKind
    expires_at: int
    issued_at: int
    extra: dict[str, Any]

    @property
    def is_service(self) -> bool:
        """True for internal callers."""
        return self.kind is TokenKind.SERVICE


def issue_token(
    secret: str,
    subject: str,
    *,
    kind: TokenKind = TokenKind.USER,
    ttl_seconds: int = 3600,
    now: float | None = None,
    **extra: Any,
) -> str:
    """Sign a token for `subject` that expires after `ttl_seconds`."""
    issued = int(now if now is not None else time.time())
    payload = {
        "sub": subject,
        "kind": kind.value,
        "iss": ISSUER,
        "iat": issued,
        "exp": issued + ttl_seconds,
        **extra,
    }
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def verify_token(secret: str, token: str, *, now: float | None = None) -> Claims:
    """Verify signature, issuer, expiry and subject; only HS256 is accepted (never `none`)."""
    # With an explicit `now` (tests, long-lived sockets) expiry is checked below against it.
    options: jwt.types.Options = {"require": ["sub", "exp", "iat"], "verify_exp": now is None}
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise InvalidToken("malformed token") from None
    if header.get("alg") != ALGORITHM:
        raise InvalidToken(f"algorithm {header.get('alg')!r} is not accepted")
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options=options,
            leeway=_LEEWAY_SECONDS,
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("token expired") from None
    except jwt.MissingRequiredClaimError as exc:
        raise InvalidToken(f"missing claim {exc.claim!r}") from None
    except jwt.InvalidSignatureError:
        raise InvalidToken("bad signature") from None
    except jwt.PyJWTError as exc:
        raise InvalidToken(f"invalid token: {exc}") from None
    if now is not None and payload["exp"] <= now:
        raise InvalidToken("token expired")
    subject = payload.get("sub")
    if not isinstance(subject, str) or not subject.strip():
        raise InvalidToken("missing claim 'sub'")
    try:
        kind = TokenKind(payload.get("kind", TokenKind.USER.value))
    except ValueError:
        raise InvalidToken("unknown token kind") from None
    standard = {"sub", "kind", "iss", "iat", "exp"}
    return Claims(
        subject,
        kind,
        int(payload["exp"]),
        int(payload["iat"]),
        {k: v for k, v in payload.items() if k not in standard},
    )


class ServiceToken:
    """A service's own token for internal calls, issued again shortly before it expires."""

    def __init__(self, secret: str, service: str, *, ttl_seconds: int = 3600) -> None:
        self._secret = secret
        self.service = service
        self._ttl = ttl_seconds
        self._token = ""
        self._expires = 0.0

    def __str__(self) -> str:
        if time.time() > self._expires - min(60, self._ttl / 2):
            self._token = issue_token(
                self._secret, self.service, kind=TokenKind.SERVICE, ttl_seconds=self._ttl
            )
            self._expires = time.time() + self._ttl
        return self._token

    def header(self) -> str:
        """`Bearer <token>`, fresh."""
        return f"Bearer {self}"
