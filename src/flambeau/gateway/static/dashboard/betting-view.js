// The betting panel: live markets per sport event, their status, and each price's last move.
// A market under a bet stop is drawn suspended (striped, labelled, prices greyed) until the
// next odds_change reopens it. A line counts the changes and cash-outs decided per minute.

import { formatAgo, h, humanize, replace, setText } from "./dom.js";
import { outcomeName } from "./betting.js";

const PRODUCERS = { 1: "live odds", 3: "pre-match odds" };

function eventTitle(event) {
  if (event.competitors.length) return event.competitors.join(" – ");
  return event.id;
}

function eventMeta(event) {
  const parts = [];
  if (event.sport) parts.push(humanize(event.sport));
  const status = event.status;
  if (status) {
    parts.push(humanize(status.phase));
    if (status.home_score !== null && status.home_score !== undefined) {
      parts.push(`${status.home_score}:${status.away_score}`);
    }
    if (status.period) parts.push(status.period);
  }
  return parts.join(" · ");
}

function price(outcome) {
  const move = outcome.trend > 0 ? "up" : outcome.trend < 0 ? "down" : "";
  return h("span", { class: `price${move ? ` ${move}` : ""}${outcome.active ? "" : " inactive"}`, dataset: { outcome: outcome.id } },
    h("span", { class: "outcome" }, outcomeName(outcome.id)), " ",
    h("b", {}, outcome.odds === null ? "–" : outcome.odds.toFixed(2)),
    move ? h("span", { class: "move", "aria-label": move === "up" ? "odds up" : "odds down" }, move === "up" ? "▲" : "▼") : null);
}

export function createBettingView({ container, empty, producers, activity }, { betting, activity: tickets, availability }) {
  return function render() {
    const now = Date.now();
    const events = betting.shown();
    replace(container, events.map((event) => {
      const markets = [...event.markets.values()];
      const stopped = markets.some((market) => market.status === "suspended");
      return h("article", { class: `event${stopped ? " stopped" : ""}`, dataset: { event: event.id } },
        h("h3", {}, eventTitle(event), " ",
          stopped ? h("span", { class: "status s-suspended" }, "Bet stop") : null),
        h("p", { class: "muted" }, eventMeta(event)),
        h("table", { class: "market-table" },
          h("caption", { class: "visually-hidden" }, `Markets of ${eventTitle(event)}`),
          h("tbody", {}, markets.map((market) => h("tr", {
            class: `market m-${market.status}`,
            dataset: { market: market.key, status: market.status },
          },
            h("th", { scope: "row" }, market.name),
            h("td", {}, h("span", { class: `status s-${market.status}` }, humanize(market.status))),
            h("td", { class: "prices" }, [...market.outcomes.values()].map(price)))))));
    }));
    empty.hidden = events.length > 0;
    if (!events.length) empty.textContent = availability("betting.odds") || "No markets yet.";
    const alive = [...betting.producers.entries()].map(([id, producer]) =>
      `${PRODUCERS[id] || `producer ${id}`}: alive ${formatAgo(now - producer.at)}${producer.subscribed ? "" : " (recovering)"}`);
    const counts = betting.counts();
    setText(producers, [`${counts.active} active, ${counts.suspended} suspended markets`, ...alive].join(" · "));
    if (activity && tickets) setText(activity, availability("betting.decisions") || tickets.summary());
  };
}
