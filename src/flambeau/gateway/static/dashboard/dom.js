// Small DOM and formatting helpers shared by the views.

/**
 * Create an element: h("li", {class: "x", dataset: {id: "1"}}, "text", child).
 * Attributes named on* are refused: the page's CSP forbids inline handlers anyway.
 */
export function h(tag, attrs = {}, ...children) {
  const ns = attrs.svg ? "http://www.w3.org/2000/svg" : null;
  const el = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "svg" || value === undefined || value === null || value === false) continue;
    if (name === "dataset") Object.assign(el.dataset, value);
    else if (name === "text") el.textContent = value;
    // the page's CSP forbids style attributes; CSSOM properties are allowed
    else if (name === "style") for (const [key, v] of Object.entries(value)) el.style.setProperty(key, v);
    else if (name.startsWith("on")) throw new Error(`h(): use addEventListener, not ${name}`);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Create an SVG element. */
export function s(tag, attrs = {}, ...children) {
  return h(tag, { ...attrs, svg: true }, ...children);
}

/** Set textContent only when it changes (cheap to call every frame). */
export function setText(el, value) {
  const text = String(value);
  if (el.textContent !== text) el.textContent = text;
}

/** Replace an element's children. */
export function replace(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
}

const integer = new Intl.NumberFormat("en-GB", { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat("en-GB", { maximumFractionDigits: 1 });
const euros = new Intl.NumberFormat("en-GB", { style: "currency", currency: "EUR" });

/** 12,345 */
export function formatCount(value) {
  return integer.format(value);
}

/** A rate: one decimal under 10, whole numbers above. */
export function formatRate(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  return value < 10 ? oneDecimal.format(value) : integer.format(value);
}

/** Milliseconds with a sensible precision, or a dash. */
export function formatMs(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  if (value < 10) return `${value.toFixed(2)} ms`;
  if (value < 1000) return `${value.toFixed(0)} ms`;
  return `${(value / 1000).toFixed(1)} s`;
}

/** Integer minor units (cents) as euros: money never travels as a float on the wire. */
export function formatCents(cents) {
  return euros.format(cents / 100);
}

// One formatter, built once: toLocaleTimeString builds a new one on every call, which shows up
// in profiles when hundreds of ticker lines arrive per second.
const clock = new Intl.DateTimeFormat("en-GB", {
  hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
});

/** HH:MM:SS in the viewer's time zone. */
export function formatClock(date) {
  return clock.format(date);
}

/** "3 s ago", "2 min ago". */
export function formatAgo(ms) {
  if (ms < 1000) return "just now";
  if (ms < 60_000) return `${Math.round(ms / 1000)} s ago`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min ago`;
  return `${Math.round(ms / 3_600_000)} h ago`;
}

/** "start_list" -> "Start list" */
export function humanize(value) {
  if (!value) return "";
  const text = String(value).replaceAll("_", " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}
