// One line of words for each table event (docs/poker.md), for the log and screen readers.

import { cardsText } from "./cards.js";
import { chips } from "./dom.js";

const STREETS = { flop: "Flop", turn: "Turn", river: "River" };

/** What happened, in a sentence; `me` reads as "You". */
export function describe(event, me) {
  const who = (user) => (user === me ? "You" : user);
  switch (event.kind) {
    case "seat.taken":
      return `${who(event.user_id)} sat down in seat ${event.seat + 1} with ${chips(event.stack)}`;
    case "seat.left":
      return `${who(event.user_id)} left the table`;
    case "hand.started":
      return `Hand ${event.hand_id} started`;
    case "blind.posted":
      return `${who(event.user_id)} posted the ${event.blind} blind (${chips(event.chips_in)})`;
    case "player.acted":
      return acted(event, who(event.user_id));
    case "street.dealt":
      return `${STREETS[event.street] ?? event.street}: ${cardsText(event.cards)}`;
    case "bet.returned":
      return `${chips(event.chips_out)} uncalled returned to ${who(event.user_id)}`;
    case "showdown":
      return `Showdown: ${event.hands
        .map((h) => `${who(h.user_id)} ${cardsText(h.hole)} (${h.category})`)
        .join(", ")}`;
    case "hand.ended":
      return `Hand over: ${winners(event, who)}`;
    default:
      return event.kind;
  }
}

function acted(event, name) {
  const clock = event.timed_out ? " (the clock ran out)" : "";
  const forced = event.forced ? " (left the table)" : "";
  switch (event.action) {
    case "fold":
      return `${name} folded${forced}${clock}`;
    case "check":
      return `${name} checked${clock}`;
    case "call":
      return `${name} called ${chips(event.chips_in)}`;
    case "bet":
      return `${name} bet ${chips(event.street_bet)}`;
    case "raise":
      return `${name} raised to ${chips(event.street_bet)}`;
    case "all_in":
      return `${name} went all in (${chips(event.street_bet)})`;
    default:
      return `${name}: ${event.action}`;
  }
}

/** "alice wins 40" (every pot's winners and shares). */
export function winners(ended, who = (u) => u) {
  const parts = ended.pots.map((pot) =>
    Object.entries(pot.shares)
      .map(([user, share]) => `${who(user)} ${who(user) === "You" ? "win" : "wins"} ${chips(share)}`)
      .join(" and "),
  );
  return parts.filter(Boolean).join("; ") || "no pot";
}
