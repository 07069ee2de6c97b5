// The analytics panel: each venue's next hour (sales forecast against the last hour's actual,
// the pace it starts from, the unit end that shapes it, closed transit lines), the per-minute
// KPI chart of one venue (analytics-chart.js: the busiest one, or the one clicked) and the open
// recommendations. Fed by GET /v1/analytics/forecast and /v1/analytics/kpis, polled with the
// page's key.

import { createKpiChart } from "./analytics-chart.js";
import { formatCents, formatClock, h, replace } from "./dom.js";

let chosen = null; // the venue the chart shows, once the viewer picks one

/** The venue the chart shows: the one picked, else the busiest over the last hour. */
export function chartVenue(plans) {
  if (chosen && plans.some((p) => p.forecast.venue === chosen)) return chosen;
  const busiest = [...plans].sort((a, b) => b.forecast.last_hour_sales - a.forecast.last_hour_sales)[0];
  return busiest ? busiest.forecast.venue : null;
}

/** Fetch the plans and the chart venue's KPIs; {why} says why there are none. */
export async function fetchPlans(headers) {
  const response = await fetch("/v1/analytics/forecast", { headers, cache: "no-store" });
  if (response.status === 401 || response.status === 403) return { plans: [], kpis: [], why: "The key may not read the analytics streams." };
  if (!response.ok) return { plans: [], kpis: [], why: `/v1/analytics/forecast answered ${response.status}` };
  const plans = await response.json();
  const venue = chartVenue(plans);
  if (!venue) return { plans, kpis: [], why: "" };
  const query = new URLSearchParams({ venue, minutes: "60" });
  const kpis = await fetch(`/v1/analytics/kpis?${query}`, { headers, cache: "no-store" });
  return { plans, kpis: kpis.ok ? await kpis.json() : [], why: "" };
}

const sum = (values) => values.reduce((a, b) => a + b, 0);

export function createAnalyticsView({ forecasts, actions, empty, chart }, { state, refresh }) {
  const draw = createKpiChart(chart);
  forecasts.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-venue]");
    if (!button) return;
    chosen = button.dataset.venue;
    refresh();
  });
  return function render() {
    const { plans, kpis, why } = state();
    const venue = chartVenue(plans);
    replace(forecasts, plans.map(({ forecast }) => {
      const next = sum(forecast.sales);
      const end = forecast.ends.length ? forecast.ends[0] : null;
      const closed = forecast.closed_lines && forecast.closed_lines.length ? ` · ${forecast.closed_lines.join(", ")} closed` : "";
      return h("tr", { dataset: { venue: forecast.venue }, class: forecast.venue === venue ? "chosen" : undefined },
        h("th", { scope: "row" }, h("button", { type: "button", class: "link", dataset: { venue: forecast.venue }, "aria-pressed": String(forecast.venue === venue) }, forecast.venue)),
        h("td", { class: "num", dataset: { cell: "next" } }, formatCents(next)),
        h("td", { class: "num", dataset: { cell: "last" } }, formatCents(forecast.last_hour_sales)),
        h("td", { class: "num" }, formatCents(Math.round(forecast.sales_pace))),
        h("td", { dataset: { cell: "end" } }, (end ? `${end[0].slice(0, 12)}… ${formatClock(new Date(end[1]))}` : "—") + closed));
    }));
    draw(plans.find((p) => p.forecast.venue === venue) || null, kpis || []);
    const open = plans.flatMap((plan) => plan.actions);
    replace(actions, open.map((action) => h("li", { class: `action a-${action.kind}`, dataset: { kind: action.kind, venue: action.venue } },
      h("time", { datetime: action.at }, formatClock(new Date(action.at))), " ",
      h("strong", {}, action.kind.replace("_", " ")), " ",
      h("abbr", {}, action.venue), " ",
      h("span", { class: "muted" }, action.cause))));
    empty.hidden = plans.length > 0;
    if (!plans.length) empty.textContent = why || "No KPIs yet.";
  };
}
