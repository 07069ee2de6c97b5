// The analytics panel: each venue's next hour (sales forecast against the last hour's actual,
// the pace it starts from, the unit end that shapes it) and the open recommendations.
// Fed by GET /v1/analytics/forecast, polled with the page's key.

import { formatCents, formatClock, h, replace } from "./dom.js";

/** Fetch the plans; returns {plans} or {why} when the key may not read them. */
export async function fetchPlans(headers) {
  const response = await fetch("/v1/analytics/forecast", { headers, cache: "no-store" });
  if (response.status === 401 || response.status === 403) return { plans: [], why: "The key may not read the analytics streams." };
  if (!response.ok) return { plans: [], why: `/v1/analytics/forecast answered ${response.status}` };
  return { plans: await response.json(), why: "" };
}

const sum = (values) => values.reduce((a, b) => a + b, 0);

export function createAnalyticsView({ forecasts, actions, empty }, { state }) {
  return function render() {
    const { plans, why } = state();
    replace(forecasts, plans.map(({ forecast }) => {
      const next = sum(forecast.sales);
      const end = forecast.ends.length ? forecast.ends[0] : null;
      return h("tr", { dataset: { venue: forecast.venue } },
        h("th", { scope: "row" }, forecast.venue),
        h("td", { class: "num", dataset: { cell: "next" } }, formatCents(next)),
        h("td", { class: "num", dataset: { cell: "last" } }, formatCents(forecast.last_hour_sales)),
        h("td", { class: "num" }, formatCents(Math.round(forecast.sales_pace))),
        h("td", { dataset: { cell: "end" } }, end ? `${end[0].slice(0, 12)}… ${formatClock(new Date(end[1]))}` : "—"));
    }));
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
