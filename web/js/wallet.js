// The wallet: balance, reserved and available (GET /me/balance), the transaction history,
// a deposit of play chips, and "verify my ledger" (the SHA-256 chain check) with its result.

import { newKey } from "./api.js";
import { chips, el, field, replace, viewHeading, when } from "./dom.js";

export const TITLE = "Wallet";

/** Mount the wallet in `main`; returns `unmount()`. */
export function mount(ctx, main) {
  const account = `/api/balance/accounts/${encodeURIComponent(ctx.me)}`;
  const figures = el("dl", { class: "figures", "aria-label": "Your chips" });
  const history = el("div", { class: "scroll", tabindex: "0", role: "region", "aria-label": "Transactions, newest first" });
  const verdict = el("div", { role: "status" });
  const problem = el("p", { class: "error", role: "alert" });
  const verify = el("button", { type: "button", class: "secondary" }, "Verify my ledger");

  main.append(
    viewHeading(TITLE),
    el("section", { class: "panel", "aria-labelledby": "chips-title" },
      el("h2", { id: "chips-title" }, "Chips"), figures, depositForm(), problem),
    el("section", { class: "panel", "aria-labelledby": "ledger-title" },
      el("h2", { id: "ledger-title" }, "Ledger"),
      el("p", { class: "hint" }, "Every change of your chips is a ledger entry whose SHA-256 covers the one before it; the check recomputes the whole chain."),
      verify, verdict),
    el("section", { class: "panel", "aria-labelledby": "history-title" },
      el("h2", { id: "history-title" }, "Transactions"), history),
  );

  async function load() {
    try {
      await ctx.wallet;
      const [balance, found] = await Promise.all([
        ctx.api("/me/balance"),
        ctx.api(`${account}/transactions?limit=50`),
      ]);
      renderFigures(balance);
      renderHistory(found.transactions);
    } catch (error) {
      problem.textContent = `Wallet unavailable: ${error.message}`;
    }
  }

  function renderFigures(balance) {
    const figure = (name, value) =>
      el("div", { "data-figure": name }, el("dt", {}, name), el("dd", {}, chips(value)));
    replace(figures,
      figure("Balance", balance.balance),
      figure("Reserved", balance.reserved),
      figure("Available", balance.available));
    if (balance.stale) figures.append(el("p", { class: "hint" }, "Last known figures (the balance service cannot reach its store)."));
  }

  function renderHistory(transactions) {
    if (!transactions.length) {
      replace(history, el("p", { class: "hint" }, "No transactions yet."));
      return;
    }
    const head = ["When", "Type", "Source", "Amount", "Reserved", "Balance after"];
    replace(history, el("table", { class: "data" },
      el("caption", { class: "visually-hidden" }, "Your transactions, newest first"),
      el("thead", {}, el("tr", {}, head.map((h, i) => el("th", { scope: "col", class: i >= 3 ? "num" : null }, h)))),
      el("tbody", {}, transactions.map((t) => el("tr", {},
        el("td", {}, when(new Date(t.created_at_ms))),
        el("td", {}, t.type),
        el("td", {}, t.source),
        el("td", { class: "num" }, chips(t.amount)),
        el("td", { class: "num" }, chips(t.reserved_delta)),
        el("td", { class: "num" }, chips(t.balance_after))))),
    ));
  }

  function depositForm() {
    const amount = field("Deposit play chips", {
      type: "number", name: "amount", min: "1", max: "1000000", step: "1", value: "1000",
      required: true, inputmode: "numeric",
    });
    const form = el("form", { class: "row", "aria-label": "Deposit" }, amount.label,
      el("button", { type: "submit" }, "Deposit"));
    let key = null;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      problem.textContent = "";
      key ??= newKey("deposit");
      try {
        await ctx.api(`${account}/deposit`, { method: "POST", body: { amount: Number(amount.input.value) }, key });
        key = null;
        ctx.announce(`Deposited ${chips(Number(amount.input.value))} chips`);
      } catch (error) {
        if (error.status !== 0) key = null;
        problem.textContent = `Not deposited: ${error.message}`;
      }
      load();
    });
    return form;
  }

  verify.addEventListener("click", async () => {
    verify.disabled = true;
    replace(verdict, el("p", { class: "hint" }, "Verifying…"));
    try {
      const r = await ctx.api(`${account}/ledger/verify`);
      const text = r.valid
        ? `Your ledger is intact: ${r.entries_checked} entries checked, head #${r.head_seq}.`
        : `Your ledger is broken at entry #${r.first_bad_seq}: ${r.reason}`;
      replace(verdict,
        el("p", { class: r.valid ? "ok" : "error", "data-valid": String(r.valid) }, text),
        el("p", { class: "hint" }, "Head checksum ", el("code", {}, r.head_checksum || "none")));
    } catch (error) {
      replace(verdict, el("p", { class: "error" }, `Could not verify: ${error.message}`));
    }
    verify.disabled = false;
  });

  // Every change of the wallet is announced on user:{me} as it is applied.
  const off = ctx.socket.on(`user:${ctx.me}`, (data) => {
    if (data.kind === "balance.changed") load();
  });
  load();
  return off;
}
