// The shop: the inventory's catalog, an order placed with an Idempotency-Key, and each
// order's saga status moving live (AUTHORIZED → … → CONFIRMED, or FAILED with its reason).

import { newKey } from "./api.js";
import { el, field, money, replace, viewHeading } from "./dom.js";
import { STEPS } from "./orders.js";

export const TITLE = "Shop";

// The mock PSP's test tokens (DESIGN.md section 5): each shows one path of the saga.
const CARDS = [
  ["pm_card_visa", "Test Visa (succeeds)"],
  ["pm_capture_flaky", "Flaky capture (retried, then succeeds)"],
  ["pm_capture_declined", "Capture declined (the saga compensates)"],
  ["pm_card_declined", "Declined at authorization"],
];

/** Mount the shop in `main`; returns `unmount()`. */
export function mount(ctx, main) {
  const catalog = el("ul", { class: "products", "aria-label": "Products" });
  const status = el("p", { class: "hint", role: "status" }, "Loading the catalog…");
  const orders = el("ol", { class: "orders", "aria-label": "Your orders" });
  const card = field("Pay with", { tag: "select", name: "payment_method" });
  for (const [value, text] of CARDS) card.input.append(el("option", { value }, text));

  main.append(
    viewHeading(TITLE),
    el("div", { class: "grid two" },
      el("section", { class: "panel", "aria-labelledby": "catalog-title" },
        el("h2", { id: "catalog-title" }, "Catalog"), card.label, status, catalog),
      el("section", { class: "panel", "aria-labelledby": "orders-title", "aria-live": "polite" },
        el("h2", { id: "orders-title" }, "Your orders"), orders)),
  );

  function renderProducts(products) {
    status.textContent = products.length
      ? `${products.length} product${products.length === 1 ? "" : "s"}`
      : "The catalog is empty (`saga seed` adds a demo catalog).";
    replace(catalog, products.map(product));
  }

  function product(p) {
    const quantity = field(`Quantity of ${p.name}`, {
      type: "number", name: "quantity", min: "1", max: String(Math.max(1, p.available)),
      step: "1", value: "1", required: true, inputmode: "numeric",
    });
    const problem = el("p", { class: "error", role: "alert" });
    const form = el("form", { class: "product", "data-product": p.product_id, "aria-label": p.name },
      el("h3", {}, p.name),
      el("p", { class: "price" }, money(p.price_cents)),
      el("p", { class: "hint" }, `${p.available} in stock`),
      quantity.label,
      el("button", { type: "submit", disabled: p.available < 1 }, `Buy ${p.name}`),
      problem);
    let key = null;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      problem.textContent = "";
      const lines = [{ product_id: p.product_id, quantity: Number(quantity.input.value) }];
      // Kept until the edge answers, so a retry after a network failure is the same order.
      key ??= newKey("order");
      const body = { customer_id: ctx.me, items: lines, payment_method: card.input.value, currency: "USD" };
      try {
        const placed = await ctx.api("/api/edge/orders", { method: "POST", body, key });
        ctx.orders.add(placed, [{ ...lines[0], name: p.name }]);
        ctx.announce(`Order placed: ${placed.status}`);
        key = null;
      } catch (error) {
        if (error.status === 402 && error.body.order_ledger_id) {
          ctx.orders.add(error.body, [{ ...lines[0], name: p.name }]);
        } else problem.textContent = `Not ordered: ${error.message}`;
        if (error.status !== 0) key = null;
      }
    });
    return el("li", {}, form);
  }

  function renderOrders() {
    const list = ctx.orders.list();
    if (!list.length) {
      replace(orders, el("li", { class: "hint" }, "No orders yet."));
      return;
    }
    replace(orders, list.map(orderItem));
  }

  function orderItem(order) {
    const failed = order.status === "FAILED" || order.status === "PAYMENT_DECLINED";
    const steps = STEPS.map((step) => {
      const done = order.history.includes(step);
      return el("li", { class: done ? "done" : null }, `${done ? "✓ " : ""}${step}`);
    });
    if (order.history.includes("COMPENSATING")) steps.push(el("li", { class: "failed" }, "COMPENSATING"));
    if (failed) steps.push(el("li", { class: "failed" }, `✗ ${order.status}`));
    const what = order.lines.map((l) => `${l.quantity} × ${l.name}`).join(", ");
    return el("li", { class: "order", "data-order": order.id, "data-status": order.status },
      el("div", { class: "row" },
        el("strong", {}, what),
        el("span", {}, money(order.totalCents ?? 0)),
        el("span", { class: `status-${order.status}` }, order.status)),
      el("ol", { class: "steps", "aria-label": "Saga steps" }, steps),
      order.failureReason ? el("p", { class: "error" }, `Reason: ${order.failureReason}`) : null,
      el("p", { class: "hint mono" }, `Order ${order.id}`));
  }

  const off = ctx.orders.onChange(renderOrders);
  renderOrders();
  ctx.orders.refresh();
  ctx.api("/shop/products").then(
    (answer) => renderProducts(answer.products),
    (error) => {
      status.textContent = `Catalog unavailable: ${error.message}`;
    },
  );
  return off;
}
