// The sign-in view: a token (what `saga token --user NAME` prints) or, in development, a name.

import { devSignIn, devSignInOffered, useToken } from "./session.js";
import { el, field, replace, viewHeading } from "./dom.js";

const NAME_PATTERN = "[A-Za-z0-9_\\-]{1,40}";

/** Show the sign-in form in `main`; calls `done(session)` once a token is accepted. */
export async function showSignIn(main, done, reason) {
  const message = el("p", { class: "error", role: "alert" });
  if (reason) message.textContent = reason;
  const heading = viewHeading("Sign in to Saga Poker");
  const panel = el("section", { class: "panel sign-in", "aria-labelledby": "sign-in-title" });
  let first = null;
  heading.id = "sign-in-title";
  replace(main, panel);
  panel.append(heading, message);

  if (await devSignInOffered()) {
    const name = field("Your player name", {
      name: "name",
      required: true,
      pattern: NAME_PATTERN,
      maxlength: "40",
      autocomplete: "username",
      "aria-describedby": "name-hint",
    });
    const form = el(
      "form",
      { class: "stack", "aria-label": "Sign in by name" },
      name.label,
      el("p", { id: "name-hint", class: "hint" }, "Letters, digits, - and _. Development only."),
      el("button", { type: "submit" }, "Play"),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      message.textContent = "";
      try {
        const token = await devSignIn(name.input.value.trim());
        finish(token);
      } catch (error) {
        message.textContent = error.message;
      }
    });
    panel.append(form);
    first = name.input;
  }

  const token = field("A player token", {
    name: "token",
    required: true,
    autocomplete: "off",
    spellcheck: "false",
    "aria-describedby": "token-hint",
  });
  const tokenForm = el(
    "form",
    { class: "stack", "aria-label": "Sign in with a token" },
    el("h2", {}, "Have a token?"),
    token.label,
    el("p", { id: "token-hint", class: "hint" },
      "Print one with ", el("code", {}, "saga token --user NAME"),
      ", or open this page as ", el("code", {}, "/?token=…"), "."),
    el("button", { type: "submit", class: "secondary" }, "Use this token"),
  );
  tokenForm.addEventListener("submit", (event) => {
    event.preventDefault();
    finish(token.input.value);
  });
  panel.append(tokenForm);
  (first ?? token.input).focus();

  function finish(value) {
    const { session, problem } = useToken(value);
    if (session) done(session);
    else message.textContent = problem;
  }
}
