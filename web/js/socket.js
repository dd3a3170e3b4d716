// The one WebSocket to the gateway (docs/gateway.md): replies matched by `ref`, events by
// channel, channels subscribed again after a reconnect, then the views told to resync.

const BACKOFF_MS = [250, 500, 1000, 2000, 4000];
// 4000 bad token, 4001 expired: reconnecting with the same token cannot help.
const AUTH_CLOSES = new Set([4000, 4001]);
const PING_MS = 20000;

/** An `error` frame (or a dropped connection) as an exception with the gateway's code. */
export class SocketError extends Error {
  constructor(frame) {
    super(frame.message ?? frame.code);
    this.code = frame.code;
  }
}

/** The gateway connection of one signed-in player. */
export class GatewaySocket {
  constructor(url) {
    this.url = url;
    this.ws = null;
    this.state = "connecting";
    this.nextId = 1;
    this.attempt = 0;
    this.everOpened = false;
    this.stopped = false;
    this.pending = new Map();
    this.listeners = new Map();
    this.channels = new Map();
    this.stateListeners = new Set();
    this.reconnectListeners = new Set();
    this.waiters = [];
  }

  /** Open the connection (and keep it open until `stop`). */
  start() {
    this.open();
  }

  /** Close for good (sign-out). */
  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    this.ws?.close(1000, "signed out");
  }

  open() {
    this.setState(this.everOpened ? "reconnecting" : "connecting");
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.addEventListener("message", (event) => this.onMessage(event.data));
    ws.addEventListener("close", (event) => this.onClose(ws, event));
  }

  get isOpen() {
    return this.state === "open" && this.ws?.readyState === WebSocket.OPEN;
  }

  /** Resolves once the gateway has welcomed this connection. */
  whenOpen() {
    if (this.isOpen) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  onMessage(text) {
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (frame.type === "welcome") {
      this.welcomed(frame);
      return;
    }
    const waiting = frame.ref !== undefined ? this.pending.get(frame.ref) : undefined;
    if (waiting) {
      this.pending.delete(frame.ref);
      clearTimeout(waiting.timer);
      if (frame.type === "error") waiting.reject(new SocketError(frame));
      else waiting.resolve(frame);
      return;
    }
    if (frame.type === "event") {
      for (const listener of [...(this.listeners.get(frame.channel) ?? [])]) {
        listener(frame.data);
      }
    }
  }

  async welcomed(frame) {
    const again = this.everOpened;
    this.everOpened = true;
    this.attempt = 0;
    this.setState("open", frame);
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => this.request({ type: "ping" }).catch(() => {}), PING_MS);
    for (const resolve of this.waiters.splice(0)) resolve();
    if (!again) return;
    // Subscribe again first, so nothing published from here on is lost, then let each view
    // ask for what it missed while the connection was down.
    const names = [...this.channels.keys()].filter((name) => !name.startsWith("user:"));
    await Promise.allSettled(names.map((channel) => this.request({ type: "subscribe", channel })));
    for (const listener of this.reconnectListeners) listener();
  }

  onClose(ws, event) {
    if (ws !== this.ws) return;
    clearInterval(this.pingTimer);
    this.ws = null;
    for (const waiting of this.pending.values()) {
      clearTimeout(waiting.timer);
      waiting.reject(new SocketError({ code: "DISCONNECTED", message: "the connection dropped" }));
    }
    this.pending.clear();
    if (this.stopped) return;
    if (AUTH_CLOSES.has(event.code)) {
      this.setState("signed-out", event);
      return;
    }
    this.setState("reconnecting", event);
    const delay = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    this.attempt += 1;
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  setState(state, detail) {
    this.state = state;
    for (const listener of this.stateListeners) listener(state, detail);
  }

  /** Send a frame and wait for its reply; rejects with the gateway's error code. */
  request(frame, timeoutMs = 10000) {
    if (!this.isOpen) {
      const down = { code: "DISCONNECTED", message: "not connected; try again in a moment" };
      return Promise.reject(new SocketError(down));
    }
    const id = String(this.nextId++);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new SocketError({ code: "TIMEOUT", message: "no answer from the gateway" }));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.ws.send(JSON.stringify({ ...frame, id }));
    });
  }

  /** Subscribe (counted: the last `unsubscribe` leaves); resolves with the `subscribed` reply. */
  subscribe(channel) {
    const known = this.channels.get(channel);
    if (known) {
      known.count += 1;
      return known.reply;
    }
    const reply = this.whenOpen().then(() => this.request({ type: "subscribe", channel }));
    // Each caller handles its own failure; this copy only keeps the rejection from going loose.
    reply.catch(() => {});
    this.channels.set(channel, { count: 1, reply });
    return reply;
  }

  /** Undo one `subscribe`. */
  unsubscribe(channel) {
    const known = this.channels.get(channel);
    if (!known) return;
    if (known.count > 1) {
      known.count -= 1;
      return;
    }
    this.channels.delete(channel);
    if (this.isOpen) this.request({ type: "unsubscribe", channel }).catch(() => {});
  }

  /** Call `listener(data)` for each event on `channel`; returns the function that stops it. */
  on(channel, listener) {
    if (!this.listeners.has(channel)) this.listeners.set(channel, new Set());
    this.listeners.get(channel).add(listener);
    return () => this.listeners.get(channel)?.delete(listener);
  }

  /** Call `listener(state, detail)` on each change: connecting, open, reconnecting, signed-out. */
  onState(listener) {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Call `listener()` after each reconnect, once the channels are subscribed again. */
  onReconnect(listener) {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }
}
