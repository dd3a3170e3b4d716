// The player's seat at a table: sit down with a buy-in (POST seats with an Idempotency-Key)
// or leave (the stack goes back to the wallet, at once or when the hand ends).

import { newKey } from "./api.js";
import { chips, el, field, replace } from "./dom.js";

/** `{node, render(view)}` for the table at `path`; `changed()` after sitting or leaving. */
export function seatPanel(ctx, path, changed) {
  const node = el("section", { class: "panel", "aria-label": "Your seat" });

  function render(view) {
    const mine = view.seats.find((seat) => seat.user_id === ctx.me);
    if (mine) {
      const leave = el("button", { type: "button", class: "danger", onclick: leaveTable }, "Leave table");
      replace(node, el("h2", {}, "Your seat"),
        el("p", {}, `Seat ${mine.seat + 1}, stack ${chips(mine.stack)} (${mine.status}).`), leave);
      return;
    }
    // Keep a form the player may be typing in.
    if (!node.querySelector("form")) replace(node, sitForm(view));
  }

  function sitForm(view) {
    const suggested = Math.min(view.max_buy_in, Math.max(view.min_buy_in, view.big_blind * 100));
    const buyIn = field("Buy-in", {
      type: "number", name: "buy_in", min: String(view.min_buy_in), max: String(view.max_buy_in),
      step: "1", value: String(suggested), required: true, inputmode: "numeric",
    });
    const problem = el("p", { class: "error", role: "alert" });
    const form = el("form", { class: "stack", "aria-label": "Sit down" },
      el("h2", {}, "Sit down"), buyIn.label,
      el("div", { class: "row" }, el("button", { type: "submit" }, "Sit down")), problem);
    let key = null;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      problem.textContent = "";
      // One key per attempt: a retry after a network failure cannot buy in twice.
      key ??= newKey("sit");
      try {
        const body = { user_id: ctx.me, buy_in: Number(buyIn.input.value), seat: null };
        await ctx.api(`${path}/seats`, { method: "POST", body, key });
        key = null;
        ctx.announce("You sat down");
        changed();
      } catch (error) {
        if (error.status !== 0) key = null;
        problem.textContent = error.code === "INSUFFICIENT_FUNDS"
          ? "Not enough chips in your wallet: deposit some in the Wallet."
          : `Not seated: ${error.message}`;
      }
    });
    return form;
  }

  async function leaveTable() {
    try {
      await ctx.api(`${path}/seats/${encodeURIComponent(ctx.me)}`, { method: "DELETE" });
      ctx.announce("You left the table; your stack goes back to your wallet");
      changed();
    } catch (error) {
      ctx.announce(`Could not leave: ${error.message}`);
    }
  }

  return { node, render };
}
