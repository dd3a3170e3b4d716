// How a table looks: seats, board and pot, the player's cards, the last hand's result with
// its provably-fair check, and the event log. Pure rendering from the table view's state.

import { cardList, cardsText } from "./cards.js";
import { chips, el, replace } from "./dom.js";
import { winners } from "./table_log.js";

const LOG_SHOWN = 60;

/** The seats in order; the player to act, the button, folds and all-ins marked. */
export function renderSeats(node, view, me) {
  const hand = view.hand;
  const bySeat = new Map(view.seats.map((s) => [s.seat, s]));
  const items = [];
  for (let n = 0; n < view.max_seats; n++) {
    const seat = bySeat.get(n);
    if (!seat) {
      items.push(el("li", { class: "seat" }, el("span", { class: "empty-seat" }, `Seat ${n + 1}: empty`)));
      continue;
    }
    const user = seat.user_id;
    const tags = [];
    if (hand?.button_seat === n) tags.push(el("span", { class: "tag button-tag" }, "Dealer"));
    if (hand?.to_act === user) tags.push(el("span", { class: "tag" }, "To act"));
    if (hand?.folded?.includes(user)) tags.push(el("span", { class: "tag" }, "Folded"));
    if (hand?.all_in?.includes(user)) tags.push(el("span", { class: "tag" }, "All in"));
    if (seat.status !== "seated") tags.push(el("span", { class: "tag" }, seat.status));
    const bet = hand?.street_bets?.[user];
    if (bet) tags.push(el("span", { class: "tag" }, `Bet ${chips(bet)}`));
    const classes = ["seat"];
    if (hand?.to_act === user) classes.push("to-act");
    if (user === me) classes.push("me");
    if (hand?.folded?.includes(user)) classes.push("folded");
    items.push(
      el(
        "li",
        { class: classes.join(" "), "data-user": user, "aria-current": hand?.to_act === user ? "true" : null },
        el("div", { class: "who" }, `Seat ${n + 1}: ${user}${user === me ? " (you)" : ""}`),
        el("div", { class: "stack" }, `Stack ${chips(seat.stack)}`),
        el("div", { class: "tags" }, tags),
      ),
    );
  }
  replace(node, items);
}

/** The board (five places) and the pot. */
export function renderBoard(node, view) {
  const hand = view.hand;
  const board = hand?.board ?? [];
  const label = board.length ? `Board: ${cardsText(board)}` : "Board: no cards yet";
  replace(
    node,
    cardList(board, label, 5),
    el("p", { class: "pot", "data-pot": hand ? String(hand.pot) : "0" },
      hand ? `Pot ${chips(hand.pot)} · ${hand.street}` : "Waiting for the next hand"),
  );
}

/** The player's two cards, or nothing when they are not in the hand. */
export function renderHole(node, cards) {
  if (!cards?.length) {
    replace(node);
    return;
  }
  replace(node, el("h2", {}, "Your cards"), cardList(cards, `Your cards: ${cardsText(cards)}`));
}

/** The last hand: who won what, the cards shown, and the deck check. */
export function renderResult(node, result, me) {
  if (!result) {
    replace(node, el("h2", {}, "Last hand"), el("p", { class: "hint" }, "No hand finished yet."));
    return;
  }
  const ended = result.ended;
  const who = (user) => (user === me ? "You" : user);
  const rows = [
    ["Hand", ended.hand_id],
    ["Won", winners(ended, who)],
    ["Board", ended.board.length ? cardsText(ended.board) : "not dealt"],
  ];
  for (const [user, net] of Object.entries(ended.net ?? {})) {
    rows.push([user === me ? "Your net" : `${user}'s net`, `${net > 0 ? "+" : ""}${chips(net)}`]);
  }
  for (const hand of result.shown) {
    rows.push([`${who(hand.user_id)} showed`, `${cardsText(hand.hole)} (${hand.category})`]);
  }
  if (ended.rake) rows.push(["Rake", chips(ended.rake)]);
  replace(
    node,
    el("h2", {}, "Last hand"),
    el("dl", {}, rows.map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)])),
    fairness(result),
  );
}

function fairness(result) {
  const { check, commitment, ended, committedBefore } = result;
  let verdict;
  let style = "hint";
  if (!check) verdict = "Checking the deck…";
  else if (check.ok === null) verdict = `Cannot check here: ${check.reason}.`;
  else if (check.ok) {
    style = "ok";
    verdict = committedBefore
      ? "Verified: the revealed deck matches the commitment published before the first card."
      : "Verified against the commitment in the result (you joined after this hand started).";
  } else {
    style = "error";
    verdict = `Not verified: ${check.reason}.`;
  }
  return el(
    "div",
    { class: "verify", "data-verified": check ? String(check.ok) : "pending" },
    el("h3", {}, "Provably fair"),
    el("p", { class: style, role: "status" }, verdict),
    el(
      "details",
      {},
      el("summary", {}, "Commitment, salt and deck"),
      el("dl", {},
        el("dt", {}, "Commitment"), el("dd", { class: "mono" }, commitment ?? "unknown"),
        el("dt", {}, "SHA-256 here"), el("dd", { class: "mono" }, check?.digest ?? "–"),
        el("dt", {}, "Salt"), el("dd", { class: "mono" }, ended.salt ?? "–"),
        el("dt", {}, "Deck"), el("dd", { class: "mono" }, (ended.deck ?? []).join(" "))),
      el("p", { class: "hint" }, "sha256(salt + \":\" + the 52 cards joined) must equal the commitment."),
    ),
  );
}

/** The log, newest first; events replayed after a reconnect are marked as missed. */
export function renderLog(node, entries) {
  const shown = [...entries].sort((a, b) => b.seq - a.seq).slice(0, LOG_SHOWN);
  replace(
    node,
    shown.map((entry) =>
      el("li", { class: entry.missed ? "missed" : null, "data-kind": entry.kind },
        entry.missed ? `Missed: ${entry.text}` : entry.text),
    ),
  );
  if (!shown.length) node.append(el("li", { class: "muted" }, "Nothing has happened yet."));
}
