// One table, live: the table as this player sees it (GET /api/game/tables/{id}), read again
// after each event on `table:{id}`; hole cards from `user:{me}`; actions over the socket;
// after a reconnect `table.resync` brings the events that were missed, shown as such.

import { actionBar, turnClock } from "./actions.js";
import { chatPanel } from "./chat.js";
import { chips, el, replace, viewHeading } from "./dom.js";
import { verifyDeck } from "./fair.js";
import { seatPanel } from "./seating.js";
import { describe } from "./table_log.js";
import { renderBoard, renderHole, renderLog, renderResult, renderSeats } from "./table_view.js";

export const TITLE = "Table";

/** Mount table `tableId` in `main`; returns `unmount()`. */
export function mount(ctx, main, { tableId }) {
  const channel = `table:${tableId}`;
  const path = `/api/game/tables/${encodeURIComponent(tableId)}`;
  const s = {
    view: null,
    seen: new Set(),
    log: [],
    lastEventId: null,
    lastEventSeq: 0,
    hole: null,
    commitments: new Map(),
    showdowns: new Map(),
    result: null,
    since: Date.now(),
    turnKey: null,
    acting: false,
  };
  const heading = viewHeading("Table");
  const facts = el("p", { class: "hint" });
  const notice = el("div", { role: "status" });
  const board = el("div", { class: "board-area" });
  const seats = el("ol", { class: "seats", "aria-label": "Seats" });
  const hole = el("div", { class: "hole-area" });
  const turn = el("div");
  const actions = el("div");
  const seating = seatPanel(ctx, path, () => refresh());
  const result = el("section", { class: "panel result", "aria-label": "Last hand" });
  const log = el("ol", { class: "log" });
  const chat = chatPanel(ctx, channel, "Table chat");
  let clock = null;
  let shownResult = { entry: undefined, check: undefined };
  let stopped = false;

  main.append(
    el("p", {}, el("a", { href: "#/lobby" }, "← Back to the lobby")),
    heading,
    facts,
    notice,
    el("div", { class: "grid two" },
      el("div", {},
        el("section", { class: "felt", "aria-label": "Table" }, board, seats, hole, turn),
        actions, seating.node, result),
      el("div", {},
        el("section", { class: "panel", "aria-labelledby": "log-title" },
          el("h2", { id: "log-title" }, "What happened"),
          el("div", { class: "log-box", role: "region", tabindex: "0", "aria-labelledby": "log-title" }, log)),
        chat.panel)),
  );

  function render() {
    const view = s.view;
    if (!view) return;
    heading.textContent = view.name;
    const played = `${view.hands_played} hand${view.hands_played === 1 ? "" : "s"} played`;
    facts.textContent = [
      `Blinds ${chips(view.small_blind)}/${chips(view.big_blind)}`,
      `buy-in ${chips(view.min_buy_in)}–${chips(view.max_buy_in)}`,
      `${view.action_timeout_seconds} s to act`,
      played,
    ].join(" · ");
    renderBoard(board, view);
    renderSeats(seats, view, ctx.me);
    const cards = view.hand && (view.hole_cards ?? (s.hole?.hand_id === view.hand.hand_id ? s.hole.cards : null));
    renderHole(hole, cards);
    renderTurn(view);
    renderActions(view);
    seating.render(view);
    // Redrawn only when it changes: its verdict is a live status line.
    if (shownResult.entry !== s.result || shownResult.check !== s.result?.check) {
      renderResult(result, s.result, ctx.me);
      shownResult = { entry: s.result, check: s.result?.check };
    }
    renderLog(log, s.log);
  }

  function renderTurn(view) {
    const toAct = view.hand?.to_act ?? null;
    const key = toAct && `${view.hand.hand_id}/${toAct}/${s.since}`;
    if (key === s.turnKey) return;
    s.turnKey = key;
    clock?.stop();
    clock = null;
    replace(turn);
    if (!toAct) return;
    const name = toAct === ctx.me ? "You" : toAct;
    // The table's own deadline when it says one; else from when this page saw the turn.
    const timeout = view.hand.action_timeout_seconds;
    const deadline = view.hand.turn_deadline_ms;
    const since = deadline ? deadline - timeout * 1000 : s.since;
    clock = turnClock(name, since, timeout);
    turn.append(clock.node);
    if (toAct === ctx.me) ctx.announce(`Your turn: ${view.hand.action_timeout_seconds} seconds to act`);
  }

  function renderActions(view) {
    if (s.acting) return;
    const hand = view.hand;
    const legal = hand?.to_act === ctx.me ? hand.legal_actions : null;
    const hadFocus = actions.contains(document.activeElement);
    if (!legal) {
      replace(actions);
      return;
    }
    const stack = view.seats.find((seat) => seat.user_id === ctx.me)?.stack ?? 0;
    const bar = actionBar(hand, legal, ctx.me, stack, act);
    replace(actions, bar);
    const typing = document.activeElement?.closest?.(".chat");
    if (hadFocus || !typing) bar.querySelector("button")?.focus({ preventScroll: true });
  }

  async function act(action, amount) {
    const frame = { type: "table.action", table_id: tableId, action };
    if (amount !== null) frame.amount = amount;
    // While the action is on its way, events must not redraw a bar from the view before it.
    s.acting = true;
    try {
      const reply = await ctx.socket.request(frame);
      s.acting = false;
      adopt(reply.result);
      render();
    } catch (error) {
      s.acting = false;
      throw error;
    }
    refresh();
  }

  /** Keep `view` unless a newer one is already shown (reads can finish out of order). */
  function adopt(view) {
    if (!view?.seats) return;
    if (s.view && (view.last_event_seq ?? 0) < (s.view.last_event_seq ?? 0)) return;
    s.view = view;
  }

  function onEvent(data, missed = false) {
    // Chat shares the channel; its panel shows it.
    if (data.kind === "chat.message") return false;
    if (typeof data.seq === "number") {
      if (s.seen.has(data.seq)) return false;
      s.seen.add(data.seq);
      if (data.seq > s.lastEventSeq && data.event_id) {
        s.lastEventSeq = data.seq;
        s.lastEventId = data.event_id;
      }
    }
    s.log.push({ seq: data.seq ?? s.log.length, kind: data.kind, text: describe(data, ctx.me), missed });
    if (s.log.length > 300) s.log.splice(0, s.log.length - 300);
    if (data.kind === "hand.started") s.commitments.set(data.hand_id, data.deck_commitment);
    if (data.kind === "showdown") s.showdowns.set(data.hand_id, data.hands);
    if (data.kind === "hand.ended") settle(data);
    // The log is not live (it is redrawn); the moments a listener needs are announced.
    if (!missed && ["street.dealt", "showdown", "hand.ended"].includes(data.kind)) {
      ctx.announce(describe(data, ctx.me));
    }
    s.since = Date.now();
    return true;
  }

  function settle(ended) {
    const before = s.commitments.get(ended.hand_id);
    const commitment = before ?? ended.commitment;
    const shown = s.showdowns.get(ended.hand_id) ?? [];
    const entry = { ended, commitment, committedBefore: Boolean(before), shown, check: null };
    s.result = entry;
    verifyDeck(ended.salt, ended.deck, commitment).then((check) => {
      entry.check = check;
      if (s.result === entry) render();
    });
  }

  let loading = null;
  let again = false;
  function refresh() {
    // One read at a time; events during a read ask for one more read after it.
    if (loading) {
      again = true;
      return;
    }
    loading = ctx.api(path).then(
      (view) => {
        adopt(view);
        document.title = `${view.name} · Saga Poker`;
        render();
      },
      (error) => {
        replace(notice, el("p", { class: "notice error" }, `Table unavailable: ${error.message}`));
      },
    ).finally(() => {
      loading = null;
      if (again && !stopped) {
        again = false;
        refresh();
      }
    });
  }

  async function resync() {
    if (!s.lastEventId) {
      replace(notice, el("p", { class: "notice" }, "Reconnected: the table was read again."));
      refresh();
      return;
    }
    try {
      const reply = await ctx.socket.request({ type: "table.resync", table_id: tableId, last_event_id: s.lastEventId });
      if (reply.full_resync_required) {
        replace(notice, el("p", { class: "notice" }, `Reconnected: too much to replay (${reply.reason}); the table was read again.`));
      } else {
        const missed = reply.events.filter((event) => onEvent(event, true)).length;
        render();
        const text = missed
          ? `Reconnected: you missed ${missed} event${missed === 1 ? "" : "s"}, marked in the log.`
          : "Reconnected: you missed nothing.";
        replace(notice, el("p", { class: "notice", "data-missed": String(missed) }, text));
      }
    } catch (error) {
      replace(notice, el("p", { class: "notice error" }, `Reconnected, but the resync failed: ${error.message}`));
    }
    refresh();
  }

  const offTable = ctx.socket.on(channel, (data) => {
    if (onEvent(data)) {
      render();
      refresh();
    }
  });
  const offMine = ctx.socket.on(`user:${ctx.me}`, (data) => {
    if (data.kind !== "hole.cards" || data.table_id !== tableId) return;
    s.hole = { hand_id: data.hand_id, cards: data.cards };
    render();
  });
  const offReconnect = ctx.socket.onReconnect(resync);
  ctx.socket.subscribe(channel).then((reply) => {
    // Where a resync starts from if the connection drops before any event arrives.
    if (reply?.last_event_id && !s.lastEventId) s.lastEventId = reply.last_event_id;
  }, () => {});
  refresh();

  return () => {
    stopped = true;
    clock?.stop();
    offTable();
    offMine();
    offReconnect();
    chat.unmount();
    ctx.socket.unsubscribe(channel);
  };
}
