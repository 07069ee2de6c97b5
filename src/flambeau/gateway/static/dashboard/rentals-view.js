// The rentals panel: each area's price index over time (mean price / base of its priced
// listing-nights, as a sparkline) and the latest price moves with what caused them.
// Fed by GET /v1/rentals/index, polled with the page's key.

import { formatCents, formatClock, h, replace, s } from "./dom.js";

/** Fetch the index; returns {areas, moves, why}, why set when the key may not read prices. */
export async function fetchRentals(headers) {
  const response = await fetch("/v1/rentals/index", { headers, cache: "no-store" });
  if (response.status === 401 || response.status === 403) return { areas: [], moves: [], why: "The key may not read rentals.prices." };
  if (!response.ok) return { areas: [], moves: [], why: `/v1/rentals/index answered ${response.status}` };
  return { ...(await response.json()), why: "" };
}

/** What moved a price, in words, from its demand parts. */
export function causeOf(price) {
  const { games, pressure, transit = 1 } = price.parts;
  if (games > 1) return "Games demand";
  if (transit < 1) return "transit strike";
  if (pressure > 1) return "searches and views";
  return "bookings and lead time";
}

function sparkline(points) {
  const values = points.map((p) => p.index);
  const lo = Math.min(...values), hi = Math.max(...values);
  const span = hi - lo || 1;
  const xy = values.map((v, i) => `${(i / Math.max(values.length - 1, 1)) * 100},${20 - ((v - lo) / span) * 20}`);
  return s("svg", { class: "spark", viewBox: "0 -2 100 24", width: 100, height: 24, role: "img", "aria-label": `index from ${lo.toFixed(2)} to ${hi.toFixed(2)}` },
    s("polyline", { points: xy.join(" "), fill: "none", stroke: "currentColor", "stroke-width": 2 }));
}

export function createRentalsView({ areas, moves, empty }, { state }) {
  return function render() {
    const { areas: rows, moves: last, why } = state();
    replace(areas, rows.map((area) => h("tr", { dataset: { area: area.area } },
      h("th", { scope: "row" }, area.area),
      h("td", { class: "num", dataset: { cell: "index" } }, (area.index * 100).toFixed(1)),
      h("td", {}, sparkline(area.points)))));
    replace(moves, last.map(({ price, causation_id: cause, at }) => h("li", { dataset: { listing: price.listing } },
      h("time", { datetime: at }, formatClock(new Date(at))), " ",
      h("strong", {}, price.listing), ` ${price.night} `,
      h("span", { class: "num" }, formatCents(price.price_cents)), " ",
      h("span", { class: "muted", dataset: { cell: "cause" }, title: cause || "" }, causeOf(price)))));
    empty.hidden = rows.length > 0;
    if (!rows.length) empty.textContent = why || "No prices yet.";
  };
}
