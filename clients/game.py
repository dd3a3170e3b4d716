"""The game service as the gateway sees it: table actions and chat mutes, over HTTP.

Over aiohttp rather than httpx: every `table.action` of every player crosses this client, and
httpx's connection pool (a scan of every pooled connection's expiry per request) was two
thirds of the gateway's CPU per action at 50 busy tables (docs/poker.md).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp

from domain.errors import DomainError, ErrorCode, Unavailable
from infra.tokens import ServiceToken


@dataclass(frozen=True)
class Answer:
    """The game service's status and JSON body (`None` when the body was not JSON)."""

    status: int
    body: Any


def _upstream_error(answer: Answer) -> DomainError:
    body = answer.body if isinstance(answer.body, dict) else {}
    raw_code = body.get("code")
    code = (
        ErrorCode(raw_code)
        if isinstance(raw_code, str) and raw_code in ErrorCode.__members__
        else None
    )
    if code is None:
        code = ErrorCode.UPSTREAM_FAILED if answer.status >= 500 else ErrorCode.INVALID_STATE
    detail = body.get("detail")
    return DomainError(str(detail or f"game service answered {answer.status}"), code=code)


class GameClient:
    """Calls GAME_URL; without it, actions fail clearly and nobody is muted."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        base_url: str | None,
        token: ServiceToken | None = None,
    ) -> None:
        self._http = http
        self._base = base_url.rstrip("/") if base_url else None
        # The gateway's own token, for what it asks on nobody's behalf (mutes).
        self._token = token

    @property
    def configured(self) -> bool:
        """True when GAME_URL is set."""
        return self._base is not None

    async def _call(
        self, method: str, path: str, headers: Mapping[str, str], **kwargs: Any
    ) -> Answer:
        if self._base is None:
            raise Unavailable("the game service is not configured (set GAME_URL)")
        try:
            async with self._http.request(
                method, self._base + path, headers=dict(headers), **kwargs
            ) as response:
                raw = await response.read()
                status = response.status
        except TimeoutError:
            raise DomainError(
                "the game service timed out", code=ErrorCode.UPSTREAM_TIMEOUT
            ) from None
        except aiohttp.ClientError as exc:
            raise DomainError(
                f"the game service is unreachable: {type(exc).__name__}",
                code=ErrorCode.UPSTREAM_FAILED,
            ) from None
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        return Answer(status, body)

    async def send_action(
        self, table_id: str, user_id: str, action: Mapping[str, Any], headers: Mapping[str, str]
    ) -> dict[str, Any]:
        """POST the action to /tables/{id}/actions; the game service's answer, as JSON."""
        answer = await self._call(
            "POST",
            f"/tables/{quote(table_id, safe='')}/actions",
            headers,
            json={"user_id": user_id, **action},
        )
        if answer.status >= 400:
            raise _upstream_error(answer)
        body = {} if answer.body is None else answer.body
        return body if isinstance(body, dict) else {"result": body}

    async def is_muted(self, user_id: str, channel: str) -> bool:
        """GET /players/{id}/mute?channel=...; a 404 means the player is not muted."""
        headers = {"authorization": self._token.header()} if self._token is not None else {}
        answer = await self._call(
            "GET",
            f"/players/{quote(user_id, safe='')}/mute",
            headers,
            params={"channel": channel},
        )
        if answer.status == 404:
            return False
        if answer.status >= 400:
            raise _upstream_error(answer)
        body = answer.body
        return bool(body.get("muted")) if isinstance(body, dict) else False


class GameMuteChecker:
    """MuteChecker backed by the game service; nobody is muted when it is not configured."""

    def __init__(self, game: GameClient) -> None:
        self._game = game

    async def is_muted(self, user_id: str, channel: str) -> bool:
        """Ask the game service."""
        if not self._game.configured:
            return False
        return await self._game.is_muted(user_id, channel)
