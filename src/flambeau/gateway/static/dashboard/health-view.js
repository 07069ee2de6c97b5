// The system health panel: rates per stream, lag, latency, subscribers, sources up or down.

import { formatAgo, formatCount, formatMs, formatRate, h, replace } from "./dom.js";
import { stat } from "./payments-view.js";

export function createHealthView({ stats, rates, lag, sources }, { health, connection, availability }) {
  return function render() {
    const now = Date.now();
    const metricsNote = health.metricsOk === true ? null : health.metricsOk;
    replace(stats,
      stat("Events/s", formatRate(health.totalRate()), { dataset: { stat: "events-rate" } }),
      stat("p99 delivery", metricsNote ? "—" : formatMs(health.p99), { dataset: { stat: "p99" }, title: "Gateway: from ingest to the subscriber's socket, last interval" }),
      stat("p99 to this page", formatMs(health.pageP99), { title: "From ingest to this browser (includes any clock offset)" }),
      stat("Subscribers", health.subscribers === null ? "—" : formatCount(health.subscribers), { dataset: { stat: "subscribers" } }),
      stat("Received here", formatCount(health.received)),
      stat("Connection", connection()));
    // streams never written to would only add rows of zeros; they are counted instead
    const rows = health.streams.filter((row) => row.end > 0)
      .sort((a, b) => (b.rate || 0) - (a.rate || 0) || a.name.localeCompare(b.name));
    const idle = health.streams.length - rows.length;
    const max = Math.max(0, ...rows.map((row) => row.rate || 0));
    replace(rates, rows.length
      ? rows.map((row) => h("tr", { dataset: { stream: row.name } },
          h("th", { scope: "row" }, row.name),
          h("td", { class: "bar-cell" },
            h("span", { class: "track", "aria-hidden": "true" }, h("span", { class: "bar", style: { "--share": max ? ((row.rate || 0) / max).toFixed(3) : "0" } })),
            h("span", { class: "num" }, formatRate(row.rate)))))
      : [],
      !health.streams.length || idle
        ? h("tr", {}, h("td", { colspan: 2, class: "muted" },
            health.streams.length ? `${idle} empty stream${idle === 1 ? "" : "s"} not shown` : "Waiting for /v1/streams…"))
        : null);
    replace(lag, health.lag.length
      ? health.lag.map((row) => h("li", { dataset: { processor: row.processor } },
          h("span", {}, row.processor), " ", h("strong", { class: row.lag > 1000 ? "warn" : "" }, formatCount(row.lag)), " behind"))
      : h("li", { class: "empty" }, metricsNote || "No processor reports lag."));
    const list = [...health.sources.entries()].sort((a, b) => (a[1].status === "down" ? -1 : 1) - (b[1].status === "down" ? -1 : 1) || a[0].localeCompare(b[0]));
    replace(sources, list.length
      ? list.map(([name, source]) => h("li", { class: `source ${source.status}`, dataset: { source: name } },
          h("span", { class: `status s-${source.status}` }, source.status === "up" ? "Up" : "Down"), " ", name, " ",
          h("span", { class: "muted" }, source.status === "up" ? `heard ${formatAgo(now - Date.parse(source.at))}` : `silent since ${formatAgo(now - Date.parse(source.at))}`)))
      : h("li", { class: "empty" }, availability("ops.health") || "No source has reported yet."));
  };
}
