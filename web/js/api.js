// HTTP to the gateway only: the proxy under /api/{service}/..., /me/balance, /shop/products.

/** A problem-details answer (or a network failure, status 0) as an exception. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body.detail ?? body.title ?? `request failed (${status})`);
    this.status = status;
    this.code = body.code ?? "UNKNOWN";
    this.body = body;
  }
}

/** A fresh idempotency key (getRandomValues also works outside secure contexts). */
export function newKey(prefix) {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return `${prefix}-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** A client that sends the player's bearer token; 401 calls `onUnauthenticated`. */
export function makeApi(token, onUnauthenticated) {
  return async function api(path, { method = "GET", body, key } = {}) {
    const headers = { authorization: `Bearer ${token}`, accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (key) headers["idempotency-key"] = key;
    let answer;
    try {
      answer = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, { code: "NETWORK", detail: "the gateway cannot be reached" });
    }
    const data = await answer.json().catch(() => ({}));
    if (answer.status === 401) onUnauthenticated(data.detail);
    if (!answer.ok) throw new ApiError(answer.status, data);
    return data;
  };
}
