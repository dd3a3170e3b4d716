"""Signing in: by name in development, from `/?token=`, by keyboard; refused in production."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import expect

from apis.gateway.webapp import CONTENT_SECURITY_POLICY
from saga.browser.player import PHONE
from tests.e2e.conftest import PlatformProcess
from tests.integration.gateway_support import gateway_settings, running_gateway
from tests.web.conftest import Arrive, assert_accessible

pytestmark = pytest.mark.web


async def test_a_player_signs_in_by_name_and_lands_in_the_live_lobby(arrive: Arrive) -> None:
    alice = await arrive("alice")
    await alice.page.goto("/")
    await expect(alice.page.get_by_role("heading", name="Sign in to Saga Poker")).to_be_visible()
    await assert_accessible(alice.page, "sign-in")
    await alice.sign_in()
    await expect(alice.page.locator("#me-name")).to_have_text(alice.name)
    await expect(alice.page.get_by_role("heading", level=1, name="Lobby")).to_be_visible()
    await expect(alice.page.get_by_role("region", name="Tables")).to_be_visible()
    await assert_accessible(alice.page, "lobby")


async def test_a_token_from_saga_token_signs_in_and_leaves_the_address_bar(
    arrive: Arrive, web_platform: PlatformProcess
) -> None:
    bob = await arrive("bob")
    issued = web_platform.saga("token", "--user", bob.name)
    assert issued.returncode == 0, issued.stderr
    await bob.sign_in_with_token(issued.stdout.strip())
    await expect(bob.page.locator("#me-name")).to_have_text(bob.name)
    assert "token=" not in bob.page.url
    await bob.page.get_by_role("button", name="Sign out").click()
    await expect(bob.page.get_by_role("heading", name="Sign in to Saga Poker")).to_be_visible()


async def test_the_app_is_usable_by_keyboard_on_a_phone(arrive: Arrive) -> None:
    carol = await arrive("carol", viewport=PHONE)
    page = carol.page
    await page.goto("/")
    await expect(page.get_by_label("Your player name")).to_be_focused()
    await page.keyboard.type(carol.name)
    await page.keyboard.press("Enter")
    await carol.live()
    await expect(page.get_by_role("heading", level=1, name="Lobby")).to_be_focused()
    for _ in range(12):
        await page.keyboard.press("Shift+Tab")
        if await page.evaluate("document.activeElement.textContent") == "Wallet":
            break
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1, name="Wallet")).to_be_focused()
    await expect(page.locator("[data-figure=Balance] dd")).to_have_text("0")
    width = await page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert width[0] <= width[1], f"the wallet scrolls sideways on a phone: {width}"
    await assert_accessible(page, "wallet on a phone")


async def test_the_page_is_served_with_a_strict_policy(web_platform: PlatformProcess) -> None:
    gateway = web_platform.url("gateway_port")
    async with httpx.AsyncClient(base_url=gateway, timeout=10) as http:
        page = await http.get("/")
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        policy = page.headers["content-security-policy"]
        assert policy == CONTENT_SECURITY_POLICY
        assert "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert page.headers["referrer-policy"] == "no-referrer"
        assert page.headers["x-content-type-options"] == "nosniff"
        assert "<script" not in re.sub(
            r'<script type="module" src="[^"]+"></script>', "", page.text
        )
        script = await http.get("/static/js/app.js")
        assert script.headers["content-type"] == "text/javascript; charset=utf-8"
        style = await http.get("/static/app.css")
        assert style.headers["content-type"] == "text/css; charset=utf-8"
        for outside in ("/static/../pyproject.toml", "/static/%2e%2e/apis/auth.py", "/static/x.py"):
            assert (await http.get(outside)).status_code == 404, outside
        catalog = await http.get("/shop/products")
        assert catalog.status_code == 401


async def test_sign_in_by_name_is_refused_in_production(web_platform: PlatformProcess) -> None:
    settings = gateway_settings(web_platform.settings.resolved_redis_url, saga_env="production")
    async with (
        running_gateway(settings) as gateway,
        httpx.AsyncClient(base_url=gateway.url) as http,
    ):
        offered = await http.get("/dev/sign-in")
        assert offered.json() == {"enabled": False}
        refused = await http.post("/dev/sign-in", json={"name": "mallory"})
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "FORBIDDEN"
        assert "SAGA_ENV=production" in refused.json()["detail"]
        assert "token" not in refused.json()
