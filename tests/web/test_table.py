"""Two browser contexts at one table: a hand played through the UI, and a dropped socket."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from playwright.async_api import WebSocketRoute, expect

from saga.browser.player import PHONE, Player, play_hand, take_turn
from tests.e2e.conftest import PlatformProcess
from tests.web.conftest import Arrive, assert_accessible, fund, leave_table

pytestmark = pytest.mark.web


async def _seat_two(
    alice: Player, bob: Player, platform: PlatformProcess, http: httpx.AsyncClient
) -> str:
    for player in (alice, bob):
        await fund(platform, http, player.name, 2000)
        await player.sign_in()
    table_name = f"Duel {alice.name}"
    table_id = await alice.open_table(table_name)
    # Bob's lobby was open all along: the new table appears there without a reload.
    await expect(bob.page.get_by_role("link", name=f"Open table {table_name}")).to_be_visible()
    await bob.join_table(table_name)
    await alice.sit(1000)
    await bob.sit(1000)
    return table_id


async def _first_to_act(*players: Player) -> Player:
    for _ in range(150):
        for player in players:
            if await player.actions.count():
                return player
        await asyncio.sleep(0.1)
    raise AssertionError("nobody was given the action")


async def _seconds_left(player: Player) -> int:
    text = await player.page.get_by_role("timer").locator(".clock").text_content()
    return int((text or "").removesuffix(" s"))


async def test_two_players_play_a_hand_with_cards_clock_actions_and_a_verified_deck(
    arrive: Arrive, web_platform: PlatformProcess, platform_http: httpx.AsyncClient
) -> None:
    alice, bob = await arrive("alice"), await arrive("bob", viewport=PHONE)
    table_id = await _seat_two(alice, bob, web_platform, platform_http)
    try:
        width = await bob.page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        assert width[0] <= width[1], f"the table scrolls sideways on a phone: {width}"
        for player in (alice, bob):
            cards = player.page.get_by_role("list", name=re.compile("^Your cards"))
            await expect(cards.locator("li")).to_have_count(2)
            await expect(player.page.get_by_role("timer")).to_contain_text("to act")
        before = await _seconds_left(alice)
        await asyncio.sleep(1.3)
        assert await _seconds_left(alice) < before
        acting = await _first_to_act(alice, bob)
        await expect(acting.actions.get_by_role("button", name="Fold")).to_be_visible()
        await assert_accessible(alice.page, "table")
        await assert_accessible(bob.page, "table on a phone")

        await alice.chat("good luck <b>bob</b>", "Table chat")
        bob_chat = bob.page.get_by_role("region", name="Table chat")
        await expect(bob_chat).to_contain_text("good luck <b>bob</b>")
        assert await bob_chat.locator("b").count() == 0

        done = await play_hand([alice, bob])
        assert re.search(r"(Raise to|Bet) \d", done[0]), done
        for player in (alice, bob):
            verdict = player.page.locator(".verify")
            await expect(verdict).to_have_attribute("data-verified", "true")
            await expect(verdict).to_contain_text("matches the commitment published before")
            await expect(player.page.get_by_role("region", name="Your seat")).to_contain_text(
                "stack"
            )
        await expect(alice.page.locator(".result")).to_contain_text("Won")
        await alice.page.locator(".verify summary").click()
        await assert_accessible(alice.page, "hand result")
        await alice.page.get_by_role("button", name="Leave table").click()
        await expect(alice.page.get_by_role("form", name="Sit down")).to_be_visible()
    finally:
        await leave_table(web_platform, platform_http, table_id, alice.name, bob.name)


class Drops:
    """Routes a page's WebSocket to the gateway, and can cut it and keep it cut for a while."""

    def __init__(self) -> None:
        self.offline = False
        self.live: list[WebSocketRoute] = []

    async def route(self, ws: WebSocketRoute) -> None:
        """Connect the page's socket through, or refuse it while offline."""
        if self.offline:
            await ws.close(code=3000, reason="offline")
            return
        ws.connect_to_server()
        self.live.append(ws)

    async def cut(self) -> None:
        """Drop every open socket (both sides); reconnects fail until `restore`."""
        self.offline = True
        for ws in self.live:
            await ws.close(code=3000, reason="cut")
        self.live.clear()


async def test_a_dropped_connection_resyncs_and_shows_what_it_missed(
    arrive: Arrive, web_platform: PlatformProcess, platform_http: httpx.AsyncClient
) -> None:
    alice, bob = await arrive("alice"), await arrive("bob")
    drops = Drops()
    await bob.page.route_web_socket(re.compile(r"/ws\?"), drops.route)
    table_id = await _seat_two(alice, bob, web_platform, platform_http)
    try:
        if await _first_to_act(alice, bob) is bob:
            await take_turn(bob, size_up=False)
        await expect(alice.actions).to_be_visible()

        await drops.cut()
        await expect(bob.page.locator("#connection")).to_have_text("Reconnecting…")
        said = await take_turn(alice, size_up=False)
        await expect(alice.page.locator(".log")).to_contain_text(
            re.compile(r"You (checked|called)")
        )
        drops.offline = False

        await bob.live()
        notice = bob.page.get_by_role("status").filter(has_text="Reconnected")
        await expect(notice).to_contain_text(re.compile(r"you missed \d+ events?"))
        await expect(bob.page.locator(".log li.missed").first).to_contain_text("Missed:")
        action = "checked" if said.startswith("Check") else "called"
        await expect(bob.page.locator(".log")).to_contain_text(f"{alice.name} {action}")
    finally:
        await leave_table(web_platform, platform_http, table_id, alice.name, bob.name)
