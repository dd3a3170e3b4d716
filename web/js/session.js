// Who the player is: a user JWT from `/?token=...`, the tab's storage or the dev sign-in.
// sessionStorage keeps one token per tab, so two tabs can play as two players.

const KEY = "saga.token";

/** The payload of a JWT, unverified (the gateway verifies; this only reads the name). */
export function claimsOf(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const text = atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), "="));
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Take `?token=` out of the address bar at once, so it is not bookmarked or shared. */
function tokenFromAddress() {
  const url = new URL(location.href);
  const token = url.searchParams.get("token");
  if (token === null) return null;
  url.searchParams.delete("token");
  history.replaceState(null, "", url.pathname + url.search + url.hash);
  return token;
}

/** The session to use, or `{problem}` saying why there is none. */
export function loadSession() {
  const fromAddress = tokenFromAddress();
  const token = fromAddress ?? sessionStorage.getItem(KEY);
  if (!token) return { problem: null };
  return useToken(token);
}

/** Check and keep a token; `{problem}` when it cannot be a player's live token. */
export function useToken(token) {
  const claims = claimsOf(token.trim());
  sessionStorage.removeItem(KEY);
  if (!claims || typeof claims.sub !== "string") {
    return { problem: "That is not a token the gateway issues (a JWT)." };
  }
  if (claims.kind !== "user") {
    return { problem: "That is a service token; the web app needs a player's token." };
  }
  if (typeof claims.exp === "number" && claims.exp * 1000 <= Date.now()) {
    return { problem: "That token has expired; get a new one." };
  }
  sessionStorage.setItem(KEY, token.trim());
  return { session: { token: token.trim(), user: claims.sub, expiresAt: claims.exp } };
}

/** Forget the token of this tab. */
export function forget() {
  sessionStorage.removeItem(KEY);
}

/** Whether the gateway offers sign-in by name (development only). */
export async function devSignInOffered() {
  try {
    const answer = await fetch("/dev/sign-in", { headers: { accept: "application/json" } });
    return answer.ok && (await answer.json()).enabled === true;
  } catch {
    return false;
  }
}

/** A token for `name` from the development sign-in; throws with the gateway's reason. */
export async function devSignIn(name) {
  const answer = await fetch("/dev/sign-in", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ name }),
  });
  const body = await answer.json().catch(() => ({}));
  if (!answer.ok) throw new Error(body.detail ?? `sign-in failed (${answer.status})`);
  return body.token;
}
