// Small DOM builders. Every piece of text goes in as a text node or textContent, never as
// HTML, so a chat line or a player's name can never become markup.

/** An element with attributes, listeners (`onclick`...), `text` and children. */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = String(value);
    else if (key === "class") node.className = value;
    else if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else node.setAttribute(key, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

/** Append strings (as text), nodes and nested arrays; skip null, undefined and false. */
export function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replace all children of `node`. */
export function replace(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}

const chipFormat = new Intl.NumberFormat("en-US");
const moneyFormat = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  dateStyle: "short",
  timeStyle: "medium",
});

/** Chips as a grouped integer ("1,250"). */
export const chips = (n) => chipFormat.format(n);

/** Cents as dollars ("$12.50"). */
export const money = (cents) => moneyFormat.format(cents / 100);

/** A time of day for chat lines. */
export const clock = (date) => timeFormat.format(date);

/** Date and time for histories. */
export const when = (date) => dateTimeFormat.format(date);

/** A heading that receives focus when its view opens (screen readers hear where they are). */
export function viewHeading(text) {
  return el("h1", { tabindex: "-1", text });
}

/** A labelled input: the label wraps the control, so the two cannot come apart. */
export function field(labelText, attrs) {
  const input = el(attrs.tag ?? "input", { ...attrs, tag: undefined });
  return { label: el("label", {}, labelText, input), input };
}
