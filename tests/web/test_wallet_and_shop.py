"""The wallet (figures, history, ledger check) and the shop (orders watched live to the end)."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import expect

from tests.e2e.conftest import PlatformProcess
from tests.web.conftest import Arrive, add_product, assert_accessible

pytestmark = pytest.mark.web


async def test_the_wallet_deposits_lists_transactions_and_verifies_the_ledger(
    arrive: Arrive,
) -> None:
    erin = await arrive("erin")
    await erin.sign_in()
    await erin.view("Wallet")
    page = erin.page
    await page.get_by_label("Deposit play chips").fill("1500")
    await page.get_by_role("button", name="Deposit").click()
    await expect(page.locator("[data-figure=Balance] dd")).to_have_text("1,500")
    await expect(page.locator("[data-figure=Available] dd")).to_have_text("1,500")
    history = page.get_by_role("region", name="Transactions", exact=True)
    await expect(history.get_by_role("row")).to_have_count(2)
    await expect(history).to_contain_text("DEPOSIT")
    await page.get_by_role("button", name="Verify my ledger").click()
    await expect(page.locator("[data-valid]")).to_have_attribute("data-valid", "true")
    await expect(page.locator("[data-valid]")).to_contain_text("1 entries checked")
    await assert_accessible(page, "wallet")


async def test_an_order_moves_live_to_confirmed_and_a_declined_capture_to_failed(
    arrive: Arrive, web_platform: PlatformProcess, platform_http: httpx.AsyncClient
) -> None:
    product_id = await add_product(web_platform, platform_http, "Lucky mug", 1250, 5)
    frank = await arrive("frank")
    await frank.sign_in()
    await frank.view("Shop")
    page = frank.page
    mug = page.get_by_role("form", name="Lucky mug")
    await expect(mug).to_contain_text("$12.50")
    await mug.get_by_label("Quantity of Lucky mug").fill("2")
    await mug.get_by_role("button", name="Buy Lucky mug").click()
    order = page.locator(".order").first
    await expect(order).to_have_attribute("data-status", "CONFIRMED")
    await expect(order).to_contain_text("2 \u00d7 Lucky mug")
    await expect(order).to_contain_text("$25.00")
    for step in ("ORDER_CREATED", "INVENTORY_RESERVED", "PAYMENT_CAPTURED", "CONFIRMED"):
        await expect(order.locator(".steps li.done", has_text=step)).to_have_count(1)
    await assert_accessible(page, "shop")

    await page.get_by_label("Pay with").select_option("pm_capture_declined")
    await mug.get_by_label("Quantity of Lucky mug").fill("1")
    await mug.get_by_role("button", name="Buy Lucky mug").click()
    failed = page.locator(".order").first
    await expect(failed).to_have_attribute("data-status", "FAILED")
    await expect(failed).to_contain_text("Reason:")
    stock = await platform_http.get(
        web_platform.url("inventory_port", f"/inventory/products/{product_id}/availability")
    )
    assert stock.json()["available"] == 3, stock.text
