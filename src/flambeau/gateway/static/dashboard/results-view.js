// Views of the results model: the ticker, the unit detail panel and the medal table.

import { formatClock, h, humanize, replace } from "./dom.js";
import { competitorName, scoreline } from "./results.js";
import { VENUES } from "./scenario-data.js";

const FLASH_MS = 2500;
const VENUE_NAMES = new Map(VENUES.map((venue) => [venue.code, venue.name]));

function statusBadge(status) {
  return status ? h("span", { class: `status s-${status}` }, humanize(status)) : null;
}

// Lines arriving faster than this per redraw are not highlighted: under load the highlight
// would only keep the whole list repainting, and nobody reads it at that pace anyway.
const HIGHLIGHT_UP_TO = 5;

/** The ticker: newest first, one line per results.units event, added incrementally. */
export function createTickerView({ list, empty }, { results, select }) {
  let source = null;
  const rendered = new WeakSet();
  list.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-unit]");
    if (button) select(button.dataset.unit);
  });
  return function render() {
    const ticker = results.ticker;
    if (ticker !== source) {
      // the model started over (a gap): redraw from scratch
      source = ticker;
      list.replaceChildren();
    }
    const fresh = [];
    for (let i = ticker.length - 1; i >= 0 && !rendered.has(ticker[i]); i -= 1) fresh.push(ticker[i]);
    const calm = fresh.length <= HIGHLIGHT_UP_TO;
    const items = fresh.reverse().map((entry) => {
      rendered.add(entry);
      return h("li", { class: calm ? "arrive" : null, dataset: { key: entry.key, eventId: entry.id, unit: entry.unit } },
        h("time", { datetime: entry.time }, formatClock(new Date(entry.time))), " ",
        statusBadge(entry.status), " ",
        h("button", { type: "button", class: "link", dataset: { unit: entry.unit } }, entry.title), " ",
        h("span", { class: "text" }, entry.text));
    });
    list.prepend(...items.reverse());
    while (list.childElementCount > ticker.length) list.lastElementChild.remove();
    empty.hidden = ticker.length > 0;
  };
}

function resultCell(line) {
  if (line.irm) return line.irm;
  return line.result ?? (line.points !== null && line.points !== undefined ? String(line.points) : "");
}

function lineTable(result) {
  const startList = result.status === "start_list";
  const lines = [...(result.competitors || [])].sort((a, b) =>
    startList
      ? (a.start_order ?? 999) - (b.start_order ?? 999)
      : (a.rank ?? 999) - (b.rank ?? 999) || (a.sort_order ?? 999) - (b.sort_order ?? 999));
  return h("table", { class: "lines" },
    h("caption", { class: "visually-hidden" }, startList ? "Start list" : "Ranking"),
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, startList ? "Order" : "Rank"),
      h("th", { scope: "col" }, "Competitor"),
      h("th", { scope: "col" }, "NOC"),
      startList ? null : h("th", { scope: "col" }, "Result"))),
    h("tbody", {}, lines.map((line) => h("tr", { class: line.rank === 1 && !startList ? "first" : "" },
      h("td", {}, startList ? line.start_order ?? "" : `${line.rank ?? ""}${line.rank_equal ? "=" : ""}`),
      h("td", {}, competitorName(line.competitor),
        (line.records || []).map((mark) => h("span", { class: "record" }, mark.code))),
      h("td", {}, line.competitor.noc ?? ""),
      startList ? null : h("td", { class: "num" }, resultCell(line))))));
}

function scoreboard(result) {
  const score = scoreline(result);
  const periods = (result.periods || []).filter((p) => p.kind !== "total");
  return h("div", { class: "h2h" },
    h("div", { class: "score", role: "group", "aria-label": "Score" },
      h("span", { class: "side home" }, score.home, score.homeNoc ? h("small", {}, ` ${score.homeNoc}`) : null),
      h("span", { class: "num", dataset: { side: "home" } }, score.homeScore ?? "–"),
      h("span", { class: "dash", "aria-hidden": "true" }, ":"),
      h("span", { class: "num", dataset: { side: "away" } }, score.awayScore ?? "–"),
      h("span", { class: "side away" }, score.away, score.awayNoc ? h("small", {}, ` ${score.awayNoc}`) : null)),
    score.period ? h("p", { class: "muted" }, `Period ${score.period}`) : null,
    periods.length
      ? h("table", { class: "periods" },
          h("caption", { class: "visually-hidden" }, "Score by period"),
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, ""), periods.map((p) => h("th", { scope: "col" }, p.code)))),
          h("tbody", {},
            h("tr", {}, h("th", { scope: "row" }, score.home), periods.map((p) => h("td", {}, p.home_period_score ?? p.home_score ?? ""))),
            h("tr", {}, h("th", { scope: "row" }, score.away), periods.map((p) => h("td", {}, p.away_period_score ?? p.away_score ?? "")))))
      : null);
}

/** The unit panel: chips for the live units, and the selected (or latest) unit in detail. */
export function createUnitView({ chips, detail }, { results, selection, changed }) {
  let shown = "";
  chips.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    if (button.dataset.follow !== undefined) selection.follow();
    else selection.pin(button.dataset.unit);
    changed();
  });
  return function render() {
    const live = results.liveUnits();
    const current = selection.current(results);
    const unit = current ? results.units.get(current) : null;
    const chipKey = `${live.map((u) => u.rsc).join()}|${current}|${selection.pinned}`;
    if (chipKey !== chips.dataset.key) {
      chips.dataset.key = chipKey;
      replace(chips,
        h("button", { type: "button", class: "chip", "aria-pressed": String(!selection.pinned), dataset: { follow: "" } }, "Follow latest"),
        live.slice(0, 10).map((u) => h("button", {
          type: "button", class: "chip live", "aria-pressed": String(selection.pinned && u.rsc === current),
          dataset: { unit: u.rsc }, title: u.title,
        }, u.title.split(" · ").slice(1).join(" · ") || u.rsc)));
    }
    if (!unit) {
      if (shown !== "none") replace(detail, h("p", { class: "empty" }, "No unit yet."));
      shown = "none";
      return;
    }
    const result = unit.result;
    const key = `${unit.rsc}|${result?.version}|${result?.status}|${unit.schedule?.status}|${JSON.stringify(result?.competitors?.map((c) => [c.rank, c.result, c.score, c.points]))}|${JSON.stringify(result?.periods)}`;
    if (key === shown) return;
    shown = key;
    const venue = unit.venue ? VENUE_NAMES.get(unit.venue) || unit.venue : null;
    replace(detail,
      h("h3", { dataset: { unit: unit.rsc } }, unit.title),
      h("p", { class: "meta" },
        statusBadge(result?.status), " ",
        // the schedule lags the results feed: its status is shown only when it says more
        scheduleNote(unit), " ",
        venue ? h("span", {}, venue) : null,
        result ? h("span", { class: "muted" }, ` · version ${result.version}`) : null),
      !result
        ? h("p", { class: "empty" }, "No result document yet.")
        : result.shape === "head_to_head"
          ? [scoreboard(result), result.competitors?.length > 2 ? lineTable(result) : null]
          : lineTable(result));
    // the Web Animations API restarts the highlight without forcing a synchronous layout
    detail.animate?.([{ backgroundColor: "rgba(121, 192, 255, 0.1)" }, { backgroundColor: "transparent" }],
      { duration: 600, easing: "ease-out" });
  };
}

const NOTEWORTHY = new Set(["interrupted", "delayed", "postponed", "rescheduled", "cancelled"]);

function scheduleNote(unit) {
  const status = unit.schedule?.status;
  if (!status) return null;
  if (!unit.result || NOTEWORTHY.has(status)) return statusBadge(status);
  return null;
}

/** How the unit panel picks its unit: pinned by the user, or the latest live update. */
export class Selection {
  constructor() {
    this.pinned = null;
  }

  pin(rsc) {
    this.pinned = rsc;
  }

  follow() {
    this.pinned = null;
  }

  current(results) {
    if (this.pinned) return this.pinned;
    const live = results.liveUnits();
    if (live.length) return live[0].rsc;
    return results.lastUnit;
  }
}

/** The medal table, ranked the IOC way, rows flashing briefly when their count changes. */
export function createMedalsView({ body, empty }, { results }) {
  let version = -1;
  return function render(now) {
    if (results.medalsVersion === version) return;
    version = results.medalsVersion;
    const rows = results.medalTable();
    // New rows start their CSS highlight when created; only rows changed in the last moments
    // get the class, so a redraw for another NOC's change does not flash the whole table.
    replace(body, rows.map((row) => {
      const fresh = row.changedAt && now - row.changedAt < FLASH_MS;
      return h("tr", { class: fresh ? "flash" : "", dataset: { noc: row.noc } },
        h("td", {}, row.rank),
        h("th", { scope: "row" }, h("abbr", { title: row.name }, row.noc), h("span", { class: "name" }, ` ${row.name}`)),
        h("td", { class: "num" }, row.gold), h("td", { class: "num" }, row.silver),
        h("td", { class: "num" }, row.bronze), h("td", { class: "num total" }, row.total));
    }));
    empty.hidden = rows.length > 0;
  };
}
