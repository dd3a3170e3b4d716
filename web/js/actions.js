// Whose turn it is with its clock, and the player's own legal actions with bet sizes.

import { chips, el } from "./dom.js";

const LABELS = { fold: "Fold", check: "Check", call: "Call", all_in: "All in" };

/** Sizes for a bet or raise: min, half pot, pot (each a street total within the limits). */
export function betSizes(hand, legal, me) {
  const mine = hand.street_bets?.[me] ?? 0;
  const highest = mine + legal.call_amount;
  const afterCall = hand.pot + legal.call_amount;
  const clamp = (n) => Math.min(legal.max_raise_to, Math.max(legal.min_raise_to, Math.round(n)));
  const sizes = [
    ["Min", legal.min_raise_to],
    ["½ pot", clamp(highest + afterCall / 2)],
    ["Pot", clamp(highest + afterCall)],
  ];
  // Presets that land on the same number say nothing new.
  return sizes.filter(([, n], i) => sizes.findIndex(([, m]) => m === n) === i);
}

/** The action bar for `legal` (`stack`: chips behind); `act(action, amount)` sends one. */
export function actionBar(hand, legal, me, stack, act) {
  const problem = el("p", { class: "error", role: "alert" });
  const buttons = el("div", { class: "row" });
  const bar = el(
    "section",
    { class: "actions", "aria-label": "Your actions" },
    el("h2", {}, "Your turn"),
    buttons,
  );
  const send = async (action, amount) => {
    problem.textContent = "";
    for (const b of bar.querySelectorAll("button")) b.disabled = true;
    try {
      await act(action, amount);
    } catch (error) {
      problem.textContent = `${error.code ?? "Refused"}: ${error.message}`;
      for (const b of bar.querySelectorAll("button")) b.disabled = false;
    }
  };
  for (const action of legal.actions) {
    if (action === "bet" || action === "raise") continue;
    let text = LABELS[action] ?? action;
    if (action === "call") text = `Call ${chips(legal.call_amount)}`;
    if (action === "all_in") text = `All in (${chips(stack)})`;
    const style = action === "fold" ? "secondary" : null;
    const onclick = () => send(action, null);
    buttons.append(
      el("button", { type: "button", class: style, "data-action": action, onclick }, text),
    );
  }
  const sizing = legal.actions.find((a) => a === "bet" || a === "raise");
  if (sizing) bar.append(sizeForm(hand, legal, me, sizing, send));
  bar.append(problem);
  return bar;
}

function sizeForm(hand, legal, me, action, send) {
  const verb = action === "bet" ? "Bet" : "Raise to";
  const amount = el("input", {
    id: "bet-amount",
    type: "number",
    name: "amount",
    min: String(legal.min_raise_to),
    max: String(legal.max_raise_to),
    step: "1",
    value: String(legal.min_raise_to),
    required: true,
    inputmode: "numeric",
  });
  const confirm = el("button", { type: "submit", "data-action": action });
  const range = `${chips(legal.min_raise_to)}–${chips(legal.max_raise_to)}`;
  const label = () => {
    confirm.textContent = `${verb} ${chips(Number(amount.value) || legal.min_raise_to)}`;
  };
  amount.addEventListener("input", label);
  label();
  const presets = betSizes(hand, legal, me).map(([name, n]) =>
    el("button", {
      type: "button",
      class: "secondary",
      "aria-label": `${name}: ${verb.toLowerCase()} ${n}`,
      onclick: () => {
        amount.value = String(n);
        label();
      },
    }, name),
  );
  const form = el(
    "form",
    { class: "sizes", "aria-label": `${verb} amount` },
    el("label", { for: amount.id }, `${verb} (${range})`, amount),
    ...presets,
    confirm,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send(action, Number(amount.value));
  });
  return form;
}

/** "bob to act" with a countdown of `timeout` seconds since `since` (ms); `stop()` ends it. */
export function turnClock(name, since, timeout) {
  const text = el("span", { class: "clock" });
  const fill = el("span");
  const bar = el("span", { class: "clock-bar", "aria-hidden": "true" }, fill);
  const node = el(
    "div",
    { class: "turn", role: "timer", "aria-label": `Time left for ${name} to act` },
    el("span", {}, `${name} to act`),
    text,
    bar,
  );
  const tick = () => {
    const left = Math.max(0, timeout - (Date.now() - since) / 1000);
    text.textContent = `${Math.ceil(left)} s`;
    text.classList.toggle("low", left <= 5);
    fill.style.width = `${(100 * left) / timeout}%`;
  };
  tick();
  const timer = setInterval(tick, 250);
  return { node, stop: () => clearInterval(timer) };
}
