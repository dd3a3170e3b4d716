// Cards as two-character strings ("As", "Td"): shown with suit symbols, read out in words.

import { el } from "./dom.js";

const RANKS = {
  A: ["A", "Ace"], K: ["K", "King"], Q: ["Q", "Queen"], J: ["J", "Jack"], T: ["10", "Ten"],
  9: ["9", "Nine"], 8: ["8", "Eight"], 7: ["7", "Seven"], 6: ["6", "Six"], 5: ["5", "Five"],
  4: ["4", "Four"], 3: ["3", "Three"], 2: ["2", "Two"],
};
const SUITS = { s: ["♠", "spades"], h: ["♥", "hearts"], d: ["♦", "diamonds"], c: ["♣", "clubs"] };

/** "Ace of spades". */
export function cardName(card) {
  const rank = RANKS[card[0]];
  const suit = SUITS[card[1]];
  return rank && suit ? `${rank[1]} of ${suit[1]}` : card;
}

/** "A♠". */
export function cardText(card) {
  const rank = RANKS[card[0]];
  const suit = SUITS[card[1]];
  return rank && suit ? `${rank[0]}${suit[0]}` : card;
}

/** Cards as short text: "A♠ K♦ 7♣". */
export const cardsText = (cards) => cards.map(cardText).join(" ");

/** One card as a list item: the symbol for the eye, the words for screen readers. */
export function cardItem(card) {
  const red = card[1] === "h" || card[1] === "d";
  return el(
    "li",
    { class: red ? "card red" : "card", "data-card": card },
    el("span", { "aria-hidden": "true" }, cardText(card)),
    el("span", { class: "visually-hidden" }, cardName(card)),
  );
}

/** A list of cards padded with empty slots (the board before the river). */
export function cardList(cards, label, slots = 0) {
  const list = el("ol", { class: slots ? "board" : "hole", "aria-label": label });
  for (const card of cards) list.append(cardItem(card));
  for (let i = cards.length; i < slots; i++) {
    list.append(el("li", { class: "card slot", "aria-hidden": "true" }));
  }
  return list;
}
