"""The player web app: its page and static files, the shop's catalog, a development sign-in.

The app is plain ES modules and CSS from the repository's `web/` folder, served as they are
(no build step). Every response of it carries a strict Content-Security-Policy: scripts and
styles only from this origin, no inline code, no framing, and no referrer, since a player
may open the page as `/?token=JWT`.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from apis.gateway.context import Gateway
from apis.gateway.limits import limit_ip, limited_caller
from apis.problems import problem
from domain.errors import ErrorCode
from domain.game.money import USER_ID
from infra.tokens import Claims, TokenKind, issue_token

# Next to the `apis` package both in the source tree and where the wheel installs `web/`.
WEB_ROOT = Path(__file__).resolve().parents[2] / "web"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        # 'self' covers ws:// and wss:// to this origin (CSP level 3).
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    # No build step means no hashed file names: revalidate every time (ETag makes it cheap).
    "Cache-Control": "no-cache",
}
ASSET_NAME = re.compile(r"^[a-z0-9_-]+(/[a-z0-9_-]+)*\.(js|css|svg)$")
DEV_TOKEN_TTL_SECONDS = 8 * 3600

router = APIRouter(include_in_schema=False)


class DevSignIn(BaseModel):
    """Body of POST /dev/sign-in: the name to play as."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=USER_ID.pattern)


def _file(path: Path) -> Response:
    if not path.is_file():
        return problem(404, ErrorCode.NOT_FOUND, "no such file of the web app")
    media_type = CONTENT_TYPES[path.suffix]
    return FileResponse(path, media_type=media_type, headers=SECURITY_HEADERS)


@router.get("/")
async def index() -> Response:
    """The web app's one page."""
    return _file(WEB_ROOT / "index.html")


@router.get("/static/{asset:path}")
async def static(asset: str) -> Response:
    """A script, style sheet or icon of the web app; nothing outside `web/`."""
    if ASSET_NAME.fullmatch(asset) is None:
        return problem(404, ErrorCode.NOT_FOUND, "no such file of the web app")
    return _file(WEB_ROOT / asset)


@router.get("/dev/sign-in")
async def dev_sign_in_offered(request: Request) -> dict[str, bool]:
    """Whether sign-in by name is offered (development only)."""
    gateway: Gateway = request.app.state.gateway
    return {"enabled": gateway.settings.saga_env != "production"}


@router.post("/dev/sign-in", status_code=201)
async def dev_sign_in(body: DevSignIn, request: Request) -> Response:
    """A user token for any name, in development; refused with SAGA_ENV=production."""
    gateway: Gateway = request.app.state.gateway
    if gateway.settings.saga_env == "production":
        return problem(
            403,
            ErrorCode.FORBIDDEN,
            "sign-in by name is for development only (SAGA_ENV=production): "
            "open the app with /?token=JWT",
        )
    limited = await limit_ip(gateway, request)
    if limited is not None:
        return limited
    token = issue_token(
        gateway.settings.jwt_secret.get_secret_value(),
        body.name,
        kind=TokenKind.USER,
        ttl_seconds=DEV_TOKEN_TTL_SECONDS,
    )
    return JSONResponse({"user_id": body.name, "token": token}, status_code=201)


@router.get("/shop/products")
async def shop_products(request: Request) -> Response:
    """The inventory's catalog for players (read only: inventory is no proxy upstream)."""
    gateway: Gateway = request.app.state.gateway
    claims = await limited_caller(gateway, request)
    if not isinstance(claims, Claims):
        return claims
    url = gateway.settings.service_url("inventory") + "/inventory/products"
    try:
        answer = await gateway.http.get(url)
    except httpx.HTTPError as exc:
        return problem(
            502, ErrorCode.UPSTREAM_FAILED, f"inventory is unreachable ({type(exc).__name__})"
        )
    if answer.status_code != 200:
        return problem(502, ErrorCode.UPSTREAM_FAILED, f"inventory answered {answer.status_code}")
    products = [
        {
            "product_id": p["product_id"],
            "name": p["name"],
            "price_cents": p["price_cents"],
            "available": p["available"],
        }
        for p in answer.json()
    ]
    return JSONResponse({"products": products})
