// Boot: sign in, then one socket and one API client shared by every view, and a hash router
// (#/lobby, #/table/{id}, #/wallet, #/shop) that mounts one view at a time.

import { makeApi } from "./api.js";
import { GatewaySocket } from "./socket.js";
import { forget, loadSession } from "./session.js";
import { showSignIn } from "./signin.js";
import { OrderBook } from "./orders.js";
import * as lobby from "./lobby.js";
import * as shop from "./shop.js";
import * as table from "./table.js";
import * as wallet from "./wallet.js";

const VIEWS = { lobby, table, wallet, shop };
const STATE_TEXT = {
  connecting: "Connecting…",
  open: "Live",
  reconnecting: "Reconnecting…",
  "signed-out": "Signed out",
};

const main = document.getElementById("main");
const header = document.getElementById("top");
const connection = document.getElementById("connection");
const announcer = document.getElementById("announcer");

let player = null;

/** Tell screen readers something without moving focus. */
function announce(text) {
  announcer.textContent = "";
  // A fresh text node after a tick is read even when it repeats the last message.
  setTimeout(() => {
    announcer.textContent = text;
  }, 50);
}

function start(session, signedInNow = false) {
  const socket = new GatewaySocket(socketUrl(session.token));
  const api = makeApi(session.token, () => signOut("Your session has ended; sign in again."));
  // Opens the wallet on first sign-in (idempotent); views wait for it before reading it.
  const wallet = api(`/api/balance/accounts/${encodeURIComponent(session.user)}`, { method: "PUT" });
  wallet.catch((error) => announce(`Wallet not ready: ${error.message}`));
  const ctx = {
    me: session.user,
    api,
    socket,
    announce,
    orders: new OrderBook(session.user, socket, api),
    wallet,
    navigate: (hash) => {
      location.hash = hash;
    },
  };
  player = { ctx, unmount: null, route: null };
  document.getElementById("me-name").textContent = session.user;
  header.hidden = false;
  socket.onState((state, detail) => {
    connection.dataset.state = state;
    connection.textContent = STATE_TEXT[state] ?? state;
    if (state === "signed-out") {
      const expired = detail?.code === 4001;
      signOut(expired ? "Your session expired; sign in again." : "The gateway refused the token.");
    }
  });
  socket.start();
  // After the sign-in form, focus goes to the new view; on a reload it stays where it is.
  route(signedInNow);
}

function socketUrl(token) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/ws?token=${encodeURIComponent(token)}&client=web`;
}

function parseRoute() {
  const parts = location.hash.replace(/^#\/?/, "").split("/");
  if (parts[0] === "table" && parts[1]) return { name: "table", params: { tableId: parts[1] } };
  if (VIEWS[parts[0]] && parts[0] !== "table") return { name: parts[0], params: {} };
  return { name: "lobby", params: {} };
}

function route(moveFocus = true) {
  if (!player) return;
  const next = parseRoute();
  player.unmount?.();
  main.replaceChildren();
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === next.name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const view = VIEWS[next.name];
  document.title = `${view.TITLE} · Saga Poker`;
  player.unmount = view.mount(player.ctx, main, next.params);
  if (moveFocus) main.querySelector("h1")?.focus();
}

function signOut(reason) {
  // Several failing requests may each ask; the first one signs out.
  if (!player) return;
  player.unmount?.();
  player.ctx.socket.stop();
  player = null;
  forget();
  header.hidden = true;
  document.title = "Sign in · Saga Poker";
  showSignIn(main, (session) => start(session, true), reason);
}

document.getElementById("sign-out").addEventListener("click", () => signOut());
document.getElementById("skip-link").addEventListener("click", (event) => {
  // The hash is the router's: focus the content instead of following "#main".
  event.preventDefault();
  main.focus();
});
window.addEventListener("hashchange", () => route(true));

const { session, problem } = loadSession();
if (session) start(session);
else {
  document.title = "Sign in · Saga Poker";
  showSignIn(main, (session) => start(session, true), problem);
}
