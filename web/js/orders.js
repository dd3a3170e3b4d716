// The orders this tab placed, kept current by the saga's `order.status` events on user:{me}
// (docs/checkout.md) whatever view is open, and read again after a reconnect.

export const STEPS = [
  "AUTHORIZED",
  "ORDER_CREATED",
  "INVENTORY_RESERVED",
  "PAYMENT_CAPTURED",
  "CONFIRMED",
];
const RANK = { ...Object.fromEntries(STEPS.map((s, i) => [s, i])), COMPENSATING: 4, FAILED: 5 };
const FINAL = new Set(["CONFIRMED", "FAILED", "PAYMENT_DECLINED"]);

/** Orders by ledger id, newest first, with every status seen and the failure reason. */
export class OrderBook {
  constructor(me, socket, api) {
    this.key = `saga.orders.${me}`;
    this.api = api;
    this.listeners = new Set();
    // A status can arrive before the POST's own answer: keep it until the order is known.
    this.early = new Map();
    this.orders = new Map(JSON.parse(sessionStorage.getItem(this.key) ?? "[]"));
    socket.on(`user:${me}`, (data) => {
      if (data.kind === "order.status") this.seen(data);
    });
    socket.onReconnect(() => this.refresh());
  }

  /** Every order, newest first. */
  list() {
    return [...this.orders.values()].sort((a, b) => b.placedAt - a.placedAt);
  }

  /** Call `listener()` after each change; returns the function that stops it. */
  onChange(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Record an order the edge accepted (202) or declined (402). */
  add(answer, lines) {
    const order = {
      id: answer.order_ledger_id,
      status: answer.status,
      totalCents: answer.total_cents,
      lines,
      history: [],
      failureReason: answer.failure_reason ?? null,
      placedAt: Date.now(),
    };
    this.orders.set(order.id, order);
    advance(order, answer.status, order.failureReason);
    for (const event of this.early.get(order.id) ?? []) {
      advance(order, event.status, event.failure_reason);
    }
    this.early.delete(order.id);
    this.changed();
    return order;
  }

  seen(event) {
    const order = this.orders.get(event.order_ledger_id);
    if (!order) {
      const waiting = this.early.get(event.order_ledger_id) ?? [];
      this.early.set(event.order_ledger_id, [...waiting, event]);
      return;
    }
    advance(order, event.status, event.failure_reason);
    this.changed();
  }

  /** Read each unfinished order from the edge (what a dropped connection missed). */
  async refresh() {
    const open = this.list().filter((order) => !FINAL.has(order.status));
    for (const order of open) {
      try {
        const view = await this.api(`/api/edge/orders/${encodeURIComponent(order.id)}`);
        advance(order, view.status, view.failure_reason);
      } catch {
        // Still unknown; the next event or reconnect tries again.
      }
    }
    if (open.length) this.changed();
  }

  changed() {
    sessionStorage.setItem(this.key, JSON.stringify([...this.orders.entries()].slice(-50)));
    for (const listener of this.listeners) listener();
  }
}

function advance(order, status, failureReason) {
  if (!status) return;
  if (!order.history.includes(status)) order.history.push(status);
  if (failureReason) order.failureReason = failureReason;
  if (FINAL.has(order.status)) return;
  if ((RANK[status] ?? -1) >= (RANK[order.status] ?? -1)) order.status = status;
}
