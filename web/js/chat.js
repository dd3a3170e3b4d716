// A chat panel for `lobby` or `table:{id}`: the history (`chat.history`), live lines, and
// the gateway's refusals (RATE_LIMITED, MUTED, ...) shown where the player typed.

import { clock, el } from "./dom.js";

const KEEP = 200;
const REFUSALS = {
  RATE_LIMITED: (m) => `Slow down: the gateway dropped that message (${m}).`,
  MUTED: (m) => `You are muted in this chat (${m}).`,
  DISCONNECTED: () => "Not sent: the connection is down; it reconnects by itself.",
};
let panels = 0;

/** The panel element and `unmount()`; `title` names the chat for people and screen readers. */
export function chatPanel(ctx, channel, title) {
  const n = ++panels;
  const messages = new Map();
  let loaded = false;
  const list = el("ol", { class: "messages" });
  const box = el(
    "div",
    { class: "messages-box", role: "log", "aria-label": `${title} messages`, tabindex: "0" },
    list,
  );
  const input = el("input", {
    id: `chat-input-${n}`,
    name: "text",
    maxlength: "500",
    autocomplete: "off",
    placeholder: "Say something…",
  });
  const problem = el("p", { class: "error", role: "alert", id: `chat-error-${n}` });
  input.setAttribute("aria-describedby", problem.id);
  const form = el(
    "form",
    { "aria-label": `Send to ${title}` },
    el("label", { class: "visually-hidden", for: input.id }, `Message to ${title}`),
    input,
    el("button", { type: "submit" }, "Send"),
  );
  const panel = el(
    "section",
    { class: "panel chat", "aria-label": title },
    el("h2", {}, title),
    box,
    form,
    problem,
  );

  const placeholder = el("li", { class: "muted" }, "Loading…");
  list.append(placeholder);

  // Lines are inserted one by one in time order, never redrawn: a screen reader then reads
  // only the new line of the log.
  function add(message) {
    if (messages.has(message.id)) return;
    const line = el(
      "li",
      { "data-at": String(message.at), "data-id": message.id },
      el("span", { class: "author" }, message.user_id === ctx.me ? `${message.user_id} (you)` : message.user_id),
      el("span", { class: "text" }, message.text),
      el("time", { datetime: new Date(message.at * 1000).toISOString() }, clock(message.at * 1000)),
    );
    messages.set(message.id, line);
    placeholder.remove();
    const later = [...list.children].find((li) => Number(li.dataset.at) > message.at);
    list.insertBefore(line, later ?? null);
    while (list.children.length > KEEP) {
      messages.delete(list.firstElementChild.dataset.id);
      list.firstElementChild.remove();
    }
    box.scrollTop = box.scrollHeight;
  }

  function render() {
    if (!messages.size) placeholder.textContent = loaded ? "No messages yet." : "Loading…";
  }

  async function loadHistory(attempt = 0) {
    try {
      const reply = await ctx.socket.request({ type: "chat.history", channel, limit: 50 });
      reply.messages.forEach(add);
      loaded = true;
      render();
    } catch (error) {
      // The frame limit is per second: one more try after it has passed.
      if (error.code === "RATE_LIMITED" && attempt === 0) {
        setTimeout(() => loadHistory(1), 1100);
        return;
      }
      problem.textContent = `Chat history unavailable: ${error.message}`;
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value;
    problem.textContent = "";
    if (!text.trim()) return;
    try {
      const sent = await ctx.socket.request({ type: "chat.send", channel, text });
      add(sent);
      render();
      input.value = "";
    } catch (error) {
      const refusal = REFUSALS[error.code];
      problem.textContent = refusal ? refusal(error.message) : `Not sent: ${error.message}`;
    }
  });

  const off = ctx.socket.on(channel, (data) => {
    if (data.kind !== "chat.message") return;
    add(data);
    render();
  });
  const offReconnect = ctx.socket.onReconnect(() => loadHistory());
  ctx.socket.subscribe(channel).then(() => loadHistory(), (error) => {
    problem.textContent = `Chat unavailable: ${error.message}`;
  });
  render();

  return {
    panel,
    unmount() {
      off();
      offReconnect();
      ctx.socket.unsubscribe(channel);
    },
  };
}
