"""Lobby chat in the browser: live lines, history, text kept as text, mutes and rate limits."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import expect

from tests.e2e.conftest import PlatformProcess
from tests.web.conftest import Arrive

pytestmark = pytest.mark.web

# Many submits in one tick, through the form's own handler: faster than any typist, so the
# gateway's per-connection frame limit (20 a second) refuses some of them.
BURST = """(count) => {
  const form = document.querySelector('form[aria-label="Send to Lobby chat"]');
  const input = form.querySelector("input");
  for (let i = 0; i < count; i++) {
    input.value = `burst ${i}`;
    form.requestSubmit();
  }
}"""


async def test_players_chat_in_the_lobby_with_history_and_text_shown_as_text(
    arrive: Arrive,
) -> None:
    alice, bob = await arrive("alice"), await arrive("bob")
    await alice.sign_in()
    await bob.sign_in()
    hostile = '<img src=x onerror="document.title=1"> hi'
    await alice.chat(hostile, "Lobby chat")
    bobs = bob.page.get_by_role("log", name="Lobby chat messages")
    await expect(bobs).to_contain_text(hostile)
    assert await bobs.locator("img").count() == 0
    await bob.chat("hello alice", "Lobby chat")
    await expect(alice.page.get_by_role("log", name="Lobby chat messages")).to_contain_text(
        "hello alice"
    )

    carol = await arrive("carol")
    await carol.sign_in()
    history = carol.page.get_by_role("log", name="Lobby chat messages")
    await expect(history).to_contain_text(hostile)
    await expect(history).to_contain_text("hello alice")


async def test_the_gateway_refusals_reach_the_player(
    arrive: Arrive, web_platform: PlatformProcess, platform_http: httpx.AsyncClient
) -> None:
    dave = await arrive("dave")
    await dave.sign_in()
    chat = dave.page.get_by_role("region", name="Lobby chat")
    await expect(chat.get_by_role("log")).not_to_contain_text("Loading")

    await dave.page.evaluate(BURST, 30)
    await expect(chat.get_by_role("alert")).to_contain_text("Slow down")

    muted = await platform_http.put(
        web_platform.url("game_port", f"/players/{dave.name}/mute"),
        json={"channel": "lobby", "minutes": 5},
    )
    assert muted.status_code == 200, muted.text
    await dave.page.wait_for_timeout(1100)
    await dave.chat("can anyone hear me", "Lobby chat")
    await expect(chat.get_by_role("alert")).to_contain_text("You are muted in this chat")
    await expect(chat.get_by_role("textbox")).to_have_value("can anyone hear me")
