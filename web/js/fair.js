// The provably-fair check (docs/poker.md): `hand.started` commits to the deck with
// sha256(salt + ":" + the 52 cards concatenated); `hand.ended` reveals deck and salt.

/** `{ok, digest, reason}`: ok is null when this browser cannot check (no secure context). */
export async function verifyDeck(salt, deck, commitment) {
  if (!globalThis.crypto?.subtle) {
    return {
      ok: null,
      reason: "this page is not a secure context (https or localhost), so it has no SHA-256",
    };
  }
  if (!Array.isArray(deck) || deck.length !== 52 || new Set(deck).size !== 52) {
    return { ok: false, reason: "the revealed deck is not 52 different cards" };
  }
  const bytes = new TextEncoder().encode(`${salt}:${deck.join("")}`);
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  if (hex !== commitment) {
    return { ok: false, digest: hex, reason: "the revealed deck does not match the commitment" };
  }
  return { ok: true, digest: hex };
}
