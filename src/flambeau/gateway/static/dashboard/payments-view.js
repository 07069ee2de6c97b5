// The payments panel: transfers per second, accepted amounts per venue (bars), fraud alerts.

import { formatCents, formatClock, formatCount, formatRate, h, replace } from "./dom.js";
import { VENUES } from "./scenario-data.js";

const NAMES = new Map(VENUES.map((venue) => [venue.code, venue.name]));
const VENUE_ROWS = 12;

/** One figure of a <dl class="stats">: a <div> holding its <dt> and <dd> (`wide`: 2 columns). */
export function stat(label, value, extra = {}, wide = false) {
  return h("div", { class: wide ? "wide" : null }, h("dt", {}, label), h("dd", extra, value));
}

export function createPaymentsView({ stats, amounts, since, alerts, alertsEmpty }, { payments, availability }) {
  return function render() {
    const rates = payments.rates();
    const totals = payments.totals;
    replace(stats,
      stat("Transfers/s", formatRate(rates.ok), { dataset: { stat: "transfers-rate" } }),
      stat("Rejected/s", formatRate(rates.rejected)),
      stat("Accepted", formatCount(totals.ok)),
      stat("Amount accepted", formatCents(totals.amount), { dataset: { stat: "amount" } }, true),
      stat("Fraud alerts", formatCount(totals.alerts)),
      stat("Blocked", formatCount(totals.blocked)));
    since.textContent = payments.first ? `since ${formatClock(payments.first)}` : "";
    const rows = payments.venues();
    const top = rows.slice(0, VENUE_ROWS);
    const max = top.length ? top[0].amount : 0;
    const missing = availability("payments.transfers");
    replace(amounts, top.length
      ? top.map((row) => h("tr", { dataset: { venue: row.venue } },
          h("th", { scope: "row" }, row.venue === "other" ? "Elsewhere" : h("abbr", { title: NAMES.get(row.venue) || row.venue }, row.venue)),
          h("td", { class: "bar-cell" },
            h("span", { class: "track", "aria-hidden": "true" }, h("span", { class: "bar", style: { "--share": max ? (row.amount / max).toFixed(3) : "0" } })),
            h("span", { class: "num" }, formatCents(row.amount))),
          h("td", { class: "num" }, formatCount(row.count))))
      : h("tr", {}, h("td", { colspan: 3, class: "empty" }, missing || "No accepted payments yet.")));
    replace(alerts, payments.alerts.slice(0, 12).map((alert) => h("li", { class: `alert a-${alert.mode}${alert.blocked ? " blocked" : ""}`, dataset: { key: alert.key } },
      h("time", { datetime: alert.time }, formatClock(new Date(alert.time))), " ",
      h("span", { class: "status" }, alert.blocked ? "Blocked" : alert.mode), " ",
      h("strong", {}, alert.rule_id), " ",
      alert.venue ? h("abbr", { title: NAMES.get(alert.venue) || alert.venue }, alert.venue) : null, " ",
      h("span", { class: "muted" }, `${alert.count} in ${alert.window}${alert.distinct_cards ? `, ${alert.distinct_cards} cards` : ""}${alert.terminal ? ` at ${alert.terminal}` : ""}`))));
    alertsEmpty.hidden = payments.alerts.length > 0;
    if (!payments.alerts.length) alertsEmpty.textContent = availability("payments.alerts") || "No alerts.";
  };
}
