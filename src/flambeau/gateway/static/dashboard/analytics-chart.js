// The per-minute KPI chart of one venue: its last hour as it happened (bars, from
// GET /v1/analytics/kpis) and its next hour as forecast (a line, from the venue's plan), in two
// panels sharing one minute axis: sales (EUR per minute, all categories) and gate entries
// (people per minute). Hand-written SVG for the reasons given in chart.js.

import { formatCents, formatClock, formatRate, s } from "./dom.js";
import { LEFT, RIGHT, WIDTH, niceCeiling } from "./chart.js";

const HOUR = 60;
const MINUTE_MS = 60_000;
const PANELS = {
  sales: { top: 20, bottom: 110, label: "sales, EUR/min" },
  entries: { top: 148, bottom: 238, label: "entries, people/min" },
};

/** Per-minute totals of one metric over every dimension: Map(minute ms → value). */
export function minuteTotals(kpis, metric) {
  const totals = new Map();
  for (const kpi of kpis) {
    if (kpi.metric !== metric) continue;
    const t = Date.parse(kpi.minute);
    totals.set(t, (totals.get(t) || 0) + kpi.value);
  }
  return totals;
}

function panelParts(name, max, x, start, actual, forecast) {
  const { top, bottom, label } = PANELS[name];
  const y = (value) => bottom - (value / max) * (bottom - top);
  const scale = name === "sales" ? 100 : 1;
  const parts = [s("text", { class: "axis-label", x: LEFT, y: top - 8 }, label)];
  for (const fraction of [0, 0.5, 1]) {
    const yy = y(max * fraction);
    parts.push(s("line", { class: "grid", x1: LEFT, x2: WIDTH - RIGHT, y1: yy, y2: yy }));
    parts.push(s("text", { class: "tick", x: LEFT - 6, y: yy + 4, "text-anchor": "end" }, formatRate((max * fraction) / scale)));
  }
  const step = x(start + MINUTE_MS) - x(start);
  for (const [t, value] of actual) {
    if (t < start - HOUR * MINUTE_MS) continue;
    parts.push(s("rect", { class: `bar ${name}`, dataset: { minute: new Date(t).toISOString() }, x: x(t), y: y(value), width: Math.max(step - 1, 1), height: bottom - y(value) }));
  }
  const d = forecast.map((value, i) => `${i ? "L" : "M"}${(x(start + i * MINUTE_MS) + step / 2).toFixed(1)},${y(value).toFixed(1)}`).join("");
  parts.push(s("path", { class: `forecast ${name}`, d }));
  return parts;
}

export function createKpiChart({ svg, title, desc }) {
  const layer = s("g");
  svg.append(layer);
  return function render(plan, kpis) {
    if (!plan) {
      layer.replaceChildren();
      title.textContent = "Per minute";
      desc.textContent = "No venue yet.";
      return;
    }
    const { forecast } = plan;
    const start = Date.parse(forecast.start);
    const from = start - (HOUR + 1) * MINUTE_MS;
    const span = (2 * HOUR + 1) * MINUTE_MS;
    const x = (t) => LEFT + ((t - from) / span) * (WIDTH - LEFT - RIGHT);
    const sales = minuteTotals(kpis, "sales");
    const entries = minuteTotals(kpis, "entries");
    const salesMax = niceCeiling(Math.max(0, ...sales.values(), ...forecast.sales), 100);
    const entriesMax = niceCeiling(Math.max(0, ...entries.values(), ...forecast.entries), 1);
    const parts = [
      ...panelParts("sales", salesMax, x, start, sales, forecast.sales),
      ...panelParts("entries", entriesMax, x, start, entries, forecast.entries),
    ];
    for (const offset of [-60, -30, 0, 30, 60]) {
      const xx = x(start + offset * MINUTE_MS);
      parts.push(s("line", { class: `grid v${offset === 0 ? " now" : ""}`, x1: xx, x2: xx, y1: PANELS.sales.top, y2: PANELS.entries.bottom }));
      parts.push(s("text", { class: "tick", x: xx, y: 256, "text-anchor": "middle" }, formatClock(new Date(start + offset * MINUTE_MS)).slice(0, 5)));
    }
    layer.replaceChildren(...parts);
    title.textContent = `Per minute at ${forecast.venue}`;
    const lastSales = [...sales.values()].reduce((a, b) => a + b, 0);
    const nextSales = forecast.sales.reduce((a, b) => a + b, 0);
    desc.textContent = `${forecast.venue}: ${sales.size} minutes of actual sales (${formatCents(lastSales)}) ` +
      `and ${entries.size} of entries before ${formatClock(new Date(start))}; ` +
      `next hour forecast ${formatCents(nextSales)} and ${forecast.entries.reduce((a, b) => a + b, 0)} entries` +
      (forecast.closed_lines && forecast.closed_lines.length ? `; ${forecast.closed_lines.join(", ")} closed` : "") + ".";
  };
}
