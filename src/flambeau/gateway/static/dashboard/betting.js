// The betting model: per sport event, its markets with status and the last move of each price.
// Fed by betting.odds (UOF-shaped: odds_change, bet_stop, bet_settlement, bet_cancel,
// rollback_bet_settlement, fixture_change, alive).

const MARKET_NAMES = {
  1: "1x2", 186: "Winner", 11: "Draw no bet", 8: "Next goal", 18: "Total", 19: "Home total",
  20: "Away total", 16: "Handicap", 90001: "Winner", 90002: "Podium", 90003: "Next scorer",
  90004: "Anytime scorer",
};
const OUTCOME_NAMES = {
  1: "1", 2: "X", 3: "2", 4: "Home", 5: "Away", 6: "Home", 7: "None", 8: "Away",
  12: "Over", 13: "Under", 1714: "Home", 1715: "Away",
};
export const EVENT_LIMIT = 12;

/** "Total 2.5", "Next goal 1", "Podium (top 3)". */
export function marketName(id, specifiers) {
  const base = MARKET_NAMES[id] ?? `Market ${id}`;
  if (!specifiers) return base;
  const values = Object.fromEntries(specifiers.split("|").map((pair) => pair.split("=")));
  if (values.total) return `${base} ${values.total}`;
  if (values.hcp) return `${base} ${values.hcp}`;
  if (values.goalnr) return `${base} ${values.goalnr}`;
  if (values.top) return `Top ${values.top}`;
  return `${base} ${specifiers}`;
}

/** An outcome's label: the UOF name for fixed outcomes, the competitor id otherwise. */
export function outcomeName(id) {
  return OUTCOME_NAMES[id] ?? id;
}

export class BettingModel {
  constructor() {
    this.events = new Map();
    this.producers = new Map();
  }

  reset() {
    this.events.clear();
    this.producers.clear();
  }

  event(id) {
    let event = this.events.get(id);
    if (!event) {
      event = { id, sport: "", competitors: [], start: null, status: null, markets: new Map(),
                updated: 0, stoppedAt: 0 };
      this.events.set(id, event);
    }
    return event;
  }

  market(event, id, specifiers = "") {
    const key = `${id}|${specifiers}`;
    let market = event.markets.get(key);
    if (!market) {
      market = { key, id, specifiers, name: marketName(id, specifiers), status: "active",
                 outcomes: new Map(), changed: 0 };
      event.markets.set(key, market);
    }
    return market;
  }

  /** Apply betting.odds envelopes. */
  apply(envelopes, now = Date.now()) {
    for (const { data } of envelopes) {
      if (!data) continue;
      if (data.type === "alive") {
        this.producers.set(data.producer, { subscribed: data.subscribed, at: now });
        continue;
      }
      if (!data.event_id) continue;
      const event = this.event(data.event_id);
      event.updated = now;
      switch (data.type) {
        case "odds_change":
          if (data.event_status) event.status = data.event_status;
          for (const offered of data.markets || []) {
            const market = this.market(event, offered.id, offered.specifiers);
            market.status = offered.status;
            market.changed = now;
            for (const outcome of offered.outcomes || []) {
              const known = market.outcomes.get(outcome.id);
              const previous = known?.odds ?? null;
              const odds = outcome.odds ?? null;
              let trend = known?.trend ?? 0;
              if (previous !== null && odds !== null && odds !== previous) trend = odds > previous ? 1 : -1;
              market.outcomes.set(outcome.id, { id: outcome.id, odds, previous, trend,
                                                active: outcome.active !== false });
            }
          }
          break;
        case "bet_stop": {
          // Stops every ACTIVE market of the event, or only the markets it names.
          const named = new Set((data.markets || []).map((m) => `${m.id}|${m.specifiers || ""}`));
          for (const market of event.markets.values()) {
            if (named.size && !named.has(market.key)) continue;
            if (market.status === "active") {
              market.status = data.market_status || "suspended";
              market.changed = now;
            }
          }
          event.stoppedAt = now;
          event.stopReason = data.reason || null;
          break;
        }
        case "bet_settlement":
          for (const settled of data.markets || []) {
            this.market(event, settled.id, settled.specifiers).status = "settled";
          }
          break;
        case "bet_cancel":
          for (const cancelled of data.markets || []) {
            this.market(event, cancelled.id, cancelled.specifiers).status = "cancelled";
          }
          break;
        case "rollback_bet_settlement":
          for (const ref of data.markets || []) {
            this.market(event, ref.id, ref.specifiers).status = "deactivated";
          }
          break;
        case "fixture_change":
          event.sport = data.sport || event.sport;
          if (data.competitors?.length) event.competitors = data.competitors;
          event.start = data.start_time || event.start;
          if (data.change_type === "cancelled") event.cancelled = true;
          break;
        default:
          break;
      }
    }
  }

  /** The events to show: those with an open market first, most recently updated first. */
  shown(limit = EVENT_LIMIT) {
    const open = (event) => [...event.markets.values()].some((m) => m.status === "active" || m.status === "suspended");
    return [...this.events.values()]
      .filter((event) => event.markets.size > 0)
      .sort((a, b) => Number(open(b)) - Number(open(a)) || b.updated - a.updated)
      .slice(0, limit);
  }

  counts() {
    let active = 0;
    let suspended = 0;
    for (const event of this.events.values()) {
      for (const market of event.markets.values()) {
        if (market.status === "active") active += 1;
        else if (market.status === "suspended") suspended += 1;
      }
    }
    return { events: this.events.size, active, suspended };
  }
}
