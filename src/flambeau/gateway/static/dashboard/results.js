// The results model: units (latest snapshot per unit), the ticker, and the medal table.
// Fed by results.units, results.schedule and results.medals; read by the views.

import { DISCIPLINES, NOCS } from "./scenario-data.js";

export const TICKER_LIMIT = 200;

const GENDERS = { M: "Men's", W: "Women's", X: "Mixed" };
const PHASES = {
  FNL: "Final", SFNL: "Semifinal", QFNL: "Quarterfinal", "8FNL": "Round of 16",
  HEAT: "Heat", PREL: "Preliminary", QUAL: "Qualification", REP: "Repechage",
  BRNZ: "Bronze medal", GPA: "Group A", GPB: "Group B", GPC: "Group C", GPD: "Group D",
  GPE: "Group E", GPF: "Group F", POOL: "Pool", RND1: "Round 1", RND2: "Round 2",
};
const LIVE_RESULT = new Set(["live", "intermediate"]);
const OVER = new Set(["official", "unofficial", "unconfirmed", "provisional", "protested"]);

/** The parts of a 34-character ODF RSC, without padding. */
export function parseRsc(rsc) {
  const strip = (part) => part.replace(/-+$/, "");
  return {
    discipline: rsc.slice(0, 3),
    gender: rsc.slice(3, 4),
    event: strip(rsc.slice(4, 22)),
    phase: strip(rsc.slice(22, 26)),
    unit: strip(rsc.slice(26, 34)),
  };
}

/** "Swimming · Women's 100 m freestyle · Final" from an RSC. */
export function unitTitle(rsc) {
  const part = parseRsc(rsc);
  const discipline = DISCIPLINES[part.discipline];
  const event = discipline?.events[part.event] ?? part.event;
  const gender = GENDERS[part.gender] ?? "";
  let phase = PHASES[part.phase] ?? part.phase;
  const number = Number.parseInt(part.unit.slice(0, 4), 10);
  // a final is one unit; heats, semifinals and group matches are told apart by number
  if (phase && number && !["FNL", "BRNZ"].includes(part.phase)) {
    phase = ["Heat", "Semifinal", "Quarterfinal"].includes(phase) ? `${phase} ${number}` : `${phase} #${number}`;
  }
  return [discipline?.name ?? part.discipline, `${gender} ${event}`.trim(), phase]
    .filter(Boolean)
    .join(" · ");
}

/** A competitor's display name: athlete or team name, else NOC, else code. */
export function competitorName(competitor) {
  if (!competitor) return "?";
  return competitor.name || (competitor.noc && NOCS[competitor.noc]) || competitor.noc || competitor.code;
}

/** The two sides of a head-to-head unit with their scores, or null. */
export function scoreline(result) {
  if (result.shape !== "head_to_head") return null;
  const lines = result.competitors || [];
  const byCode = (code) => lines.find((line) => line.competitor.code === code);
  const home = (result.home && byCode(result.home)) || lines[0];
  const away = (result.away && byCode(result.away)) || lines.find((line) => line !== home);
  const last = [...(result.periods || [])].reverse().find((p) => p.home_score !== null && p.home_score !== undefined);
  const homeScore = home?.score ?? last?.home_score ?? null;
  const awayScore = away?.score ?? last?.away_score ?? null;
  return {
    home: home ? competitorName(home.competitor) : result.home || "Home",
    away: away ? competitorName(away.competitor) : result.away || "Away",
    homeNoc: home?.competitor.noc,
    awayNoc: away?.competitor.noc,
    homeScore,
    awayScore,
    period: result.current_period,
  };
}

/** The leader of a race or judged unit: the line ranked 1, or the first line. */
export function leader(result) {
  const lines = result.competitors || [];
  return lines.find((line) => line.rank === 1) || null;
}

/** One sentence for the ticker. */
export function summarize(data) {
  if (data.type === "unit_schedule") {
    const was = data.previous_status ? ` (was ${data.previous_status.replaceAll("_", " ")})` : "";
    return `${data.status.replaceAll("_", " ")}${was}`;
  }
  if (data.status === "start_list") return `start list, ${(data.competitors || []).length} competitors`;
  const score = scoreline(data);
  if (score && score.homeScore !== null) {
    return `${score.home} ${score.homeScore}–${score.awayScore} ${score.away}`;
  }
  const first = leader(data);
  if (first) {
    const mark = first.result ?? first.points ?? "";
    return `${competitorName(first.competitor)}${first.competitor.noc ? ` (${first.competitor.noc})` : ""} ${mark}`.trim();
  }
  return data.status.replaceAll("_", " ");
}

/** Whether a unit is in play now. */
export function isLive(unit) {
  const result = unit.result;
  if (unit.schedule && ["finished", "cancelled", "postponed"].includes(unit.schedule.status) &&
      !(result && LIVE_RESULT.has(result.status))) {
    return false;
  }
  if (result && LIVE_RESULT.has(result.status)) return true;
  if (result && OVER.has(result.status)) return false;
  return unit.schedule?.status === "running" || result?.unit_status === "running";
}

function rankMedals(rows) {
  rows.sort((a, b) => b.gold - a.gold || b.silver - a.silver || b.bronze - a.bronze ||
    b.total - a.total || a.noc.localeCompare(b.noc));
  let rank = 0;
  let previous = null;
  rows.forEach((row, index) => {
    const same = previous && previous.gold === row.gold && previous.silver === row.silver &&
      previous.bronze === row.bronze;
    rank = same ? rank : index + 1;
    row.rank = rank;
    previous = row;
  });
  return rows;
}

export class ResultsModel {
  constructor() {
    this.units = new Map();
    this.ticker = [];
    this.tickerSeen = new Set();
    this.medals = new Map();
    this.medalsVersion = 0;
    this.awards = [];
    this.scheduleByVenue = new Map();
    this.lastUnit = null;
  }

  /** Drop everything a stream contributed (after a gap the stream is replayed from scratch). */
  reset(stream) {
    if (stream === "results.units") {
      this.units.clear();
      this.ticker = [];
      this.tickerSeen.clear();
      this.lastUnit = null;
    } else if (stream === "results.medals") {
      this.medals.clear();
      this.awards = [];
      this.medalsVersion += 1;
    } else if (stream === "results.schedule") {
      this.scheduleByVenue.clear();
    }
  }

  unit(rsc) {
    let unit = this.units.get(rsc);
    if (!unit) {
      unit = { rsc, title: unitTitle(rsc), discipline: rsc.slice(0, 3), result: null, schedule: null,
               venue: null, updated: 0, changed: 0 };
      this.units.set(rsc, unit);
    }
    return unit;
  }

  /** Apply results.units envelopes; returns how many ticker entries were added. */
  applyUnits(envelopes, now = Date.now()) {
    let added = 0;
    for (const envelope of envelopes) {
      const data = envelope.data;
      if (!data || !data.unit) continue;
      const unit = this.unit(data.unit);
      if (data.type === "unit_result") {
        // Snapshots are ordered by version; an older one never replaces a newer one.
        if (!unit.result || data.version >= unit.result.version) {
          const before = unit.result ? summarize(unit.result) : null;
          unit.result = data;
          if (before !== summarize(data)) unit.changed = now;
        }
      } else if (data.type === "unit_schedule") {
        if (!unit.schedule || (data.version ?? 0) >= (unit.schedule.version ?? 0)) unit.schedule = data;
      } else {
        continue;
      }
      unit.venue = data.venue || unit.venue;
      unit.updated = now;
      this.lastUnit = unit.rsc;
      const key = `${envelope.partition}:${envelope.offset}`;
      if (this.tickerSeen.has(key)) continue; // a replay after a gap never shows twice
      this.tickerSeen.add(key);
      this.ticker.push({
        key,
        id: envelope.id,
        time: envelope.time,
        unit: data.unit,
        title: unit.title,
        kind: data.type,
        status: data.type === "unit_result" ? data.status : data.status,
        text: summarize(data),
      });
      added += 1;
    }
    if (this.ticker.length > TICKER_LIMIT) {
      for (const old of this.ticker.splice(0, this.ticker.length - TICKER_LIMIT)) {
        this.tickerSeen.delete(old.key);
      }
    }
    return added;
  }

  /** Apply results.schedule envelopes (one document per day, venue and discipline). */
  applySchedule(envelopes) {
    for (const { data } of envelopes) {
      if (!data || data.type !== "venue_day_schedule") continue;
      const key = `${data.venue}/${data.discipline}`;
      const known = this.scheduleByVenue.get(key);
      if (known && known.day > data.day) continue;
      this.scheduleByVenue.set(key, data);
      for (const entry of data.units || []) {
        if (entry.unit.length !== 34 || entry.unit.endsWith("--------")) continue;
        const unit = this.unit(entry.unit);
        unit.venue = unit.venue || data.venue;
        if (!unit.schedule || unit.schedule.status !== entry.status) {
          unit.schedule = { ...entry, version: unit.schedule?.version ?? 0 };
        }
      }
    }
  }

  /** Apply results.medals envelopes; `flash` marks changed rows for a brief highlight. */
  applyMedals(envelopes, flash, now = performance.now()) {
    for (const { data, time } of envelopes) {
      if (!data) continue;
      if (data.type === "medal_count") {
        const known = this.medals.get(data.noc);
        const changed = !known || known.gold !== data.gold || known.silver !== data.silver ||
          known.bronze !== data.bronze;
        this.medals.set(data.noc, {
          noc: data.noc,
          name: NOCS[data.noc] || data.noc,
          gold: data.gold, silver: data.silver, bronze: data.bronze, total: data.total,
          changedAt: changed && flash ? now : known?.changedAt ?? 0,
        });
      } else if (data.type === "medals_awarded") {
        this.awards.unshift({ event: data.event, time, medallists: data.medallists || [] });
        this.awards.length = Math.min(this.awards.length, 10);
      }
    }
    this.medalsVersion += 1;
  }

  medalTable() {
    return rankMedals([...this.medals.values()].filter((row) => row.total > 0 || row.gold + row.silver + row.bronze > 0));
  }

  liveUnits() {
    return [...this.units.values()].filter(isLive).sort((a, b) => b.updated - a.updated);
  }
}
