// The lobby: every table by name, blinds and free seats, live from `table.updated` on the
// `lobby` channel (a table opened anywhere appears without a reload); open a table; chat.

import { chatPanel } from "./chat.js";
import { chips, el, field, replace, viewHeading } from "./dom.js";

export const TITLE = "Lobby";

const DEFAULTS = {
  small_blind: 5,
  big_blind: 10,
  min_buy_in: 200,
  max_buy_in: 2000,
  max_seats: 6,
  action_timeout_seconds: 30,
};

/** Mount the lobby in `main`; returns `unmount()`. */
export function mount(ctx, main) {
  const tables = new Map();
  const list = el("ul", { class: "tables", "aria-label": "Tables" });
  const status = el("p", { class: "hint", role: "status" }, "Loading tables…");
  const chat = chatPanel(ctx, "lobby", "Lobby chat");
  main.append(
    viewHeading(TITLE),
    el(
      "div",
      { class: "grid two" },
      el(
        "div",
        {},
        el("section", { class: "panel", "aria-labelledby": "tables-title" },
          el("h2", { id: "tables-title" }, "Tables"), status, list),
        openTableForm(ctx),
      ),
      chat.panel,
    ),
  );

  function upsert(summary) {
    const known = tables.get(summary.table_id);
    // Summaries can arrive late or twice; `version` orders them.
    if (known && (known.version ?? 0) > (summary.version ?? 0)) return false;
    tables.set(summary.table_id, summary);
    return !known;
  }

  function render() {
    const sorted = [...tables.values()].sort((a, b) => a.name.localeCompare(b.name));
    replace(list, sorted.map((t) => tableLine(ctx, t)));
    const text = sorted.length
      ? `${sorted.length} table${sorted.length === 1 ? "" : "s"}`
      : "No tables yet: open one below.";
    // A live status line: rewrite it only when it says something new.
    if (status.textContent !== text) status.textContent = text;
  }

  const off = ctx.socket.on("lobby", (data) => {
    if (data.kind !== "table.updated") return;
    if (upsert(data)) ctx.announce(`New table: ${data.name}`);
    render();
  });
  ctx.socket.subscribe("lobby").catch(() => {});
  ctx.api("/api/game/tables").then(
    (answer) => {
      answer.tables.forEach(upsert);
      render();
    },
    (error) => {
      status.textContent = `Tables unavailable: ${error.message}`;
    },
  );

  return () => {
    off();
    chat.unmount();
    ctx.socket.unsubscribe("lobby");
  };
}

function tableLine(ctx, t) {
  const free = t.max_seats - t.seated;
  const open = el("a", {
    class: "button-link",
    href: `#/table/${encodeURIComponent(t.table_id)}`,
    "aria-label": `Open table ${t.name}`,
  }, "Open");
  return el(
    "li",
    { class: "table-line", "data-table-id": t.table_id },
    el("div", {},
      el("div", { class: "name" }, t.name),
      el("div", { class: "facts" },
        el("span", {}, `Blinds ${chips(t.small_blind)}/${chips(t.big_blind)}`),
        el("span", {}, `${free} of ${t.max_seats} seats free`),
        el("span", {}, `Buy-in ${chips(t.min_buy_in)}–${chips(t.max_buy_in)}`),
        el("span", {}, t.hand_in_progress ? "Hand in progress" : "Waiting for players"),
      )),
    open,
  );
}

function openTableForm(ctx) {
  const inputs = {};
  const fields = [
    ["name", "Table name", { maxlength: "60" }],
    ["small_blind", "Small blind", { type: "number", min: "1" }],
    ["big_blind", "Big blind", { type: "number", min: "1" }],
    ["min_buy_in", "Minimum buy-in", { type: "number", min: "1" }],
    ["max_buy_in", "Maximum buy-in", { type: "number", min: "1" }],
    ["max_seats", "Seats", { type: "number", min: "2", max: "10" }],
    ["action_timeout_seconds", "Seconds to act", { type: "number", min: "5", max: "600" }],
  ].map(([name, label, attrs]) => {
    const value = name === "name" ? `${ctx.me}'s table` : String(DEFAULTS[name]);
    const made = field(label, { name, value, required: true, ...attrs });
    inputs[name] = made.input;
    return made.label;
  });
  const problem = el("p", { class: "error", role: "alert" });
  const form = el(
    "form",
    { class: "panel stack", "aria-labelledby": "open-title" },
    el("h2", { id: "open-title" }, "Open a table"),
    el("div", { class: "fields" }, fields),
    el("div", { class: "row" }, el("button", { type: "submit" }, "Open table")),
    problem,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    problem.textContent = "";
    const body = Object.fromEntries(
      Object.entries(inputs).map(([k, input]) => [k, k === "name" ? input.value : +input.value]),
    );
    try {
      const opened = await ctx.api("/api/game/tables", { method: "POST", body });
      ctx.navigate(`#/table/${encodeURIComponent(opened.table_id)}`);
    } catch (error) {
      problem.textContent = `Not opened: ${error.message}`;
    }
  });
  return form;
}
