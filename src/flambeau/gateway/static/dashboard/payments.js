// The payments model: transfers per second, accepted amounts per venue, fraud alerts.
//
// Decisions (payments.transfers) say which transfers the ledger accepted and for how much;
// the venue is known from the request's payment context (payments.requests): terminals are
// named POS-<venue>-<n> at stands and TVM-<venue>-<n> at ticket machines. Amounts are integer
// minor units (cents) and stay integers here.

export const ALERT_LIMIT = 30;
const CONTEXT_LIMIT = 50_000;
const RATE_WINDOW_S = 5;

/** The venue code in a terminal id such as "POS-STA-0042", or null. */
export function venueOfTerminal(terminal) {
  const match = /^(?:POS|TVM)-([A-Z0-9]{3})-/.exec(terminal || "");
  return match ? match[1] : null;
}

/** Keep a Map under CONTEXT_LIMIT entries by forgetting its oldest half (insertion order). */
function forgetOldest(map) {
  if (map.size <= CONTEXT_LIMIT) return;
  const drop = map.size - CONTEXT_LIMIT / 2;
  let index = 0;
  for (const key of map.keys()) {
    if (index++ >= drop) break;
    map.delete(key);
  }
}

export class PaymentsModel {
  constructor() {
    this.first = null; // the earliest decision counted
    this.venueOf = new Map(); // transfer id -> venue code, from request contexts
    // Accepted transfers whose request has not been seen yet (the two streams arrive on their
    // own schedules): counted under "other" until their venue is learnt.
    this.unplaced = new Map(); // transfer id -> amount
    this.perVenue = new Map(); // venue -> {amount, count}
    this.seconds = new Map(); // whole second -> {ok, rejected}
    this.alerts = [];
    this.totals = { ok: 0, rejected: 0, amount: 0, alerts: 0, blocked: 0 };
  }

  /** Forget what `stream` contributed. */
  reset(stream) {
    if (stream === "payments.alerts") {
      this.alerts = [];
      this.totals.alerts = 0;
      this.totals.blocked = 0;
    } else if (stream === "payments.requests") {
      this.venueOf.clear();
    } else if (stream === "payments.transfers") {
      this.perVenue.clear();
      this.unplaced.clear();
      this.seconds.clear();
      this.first = null;
      Object.assign(this.totals, { ok: 0, rejected: 0, amount: 0 });
    }
  }

  /** payments.requests: remember which venue each transfer comes from. */
  applyRequests(envelopes) {
    for (const { data } of envelopes) {
      if (!data || data.type !== "create_transfers") continue;
      for (const context of data.contexts || []) {
        const venue = venueOfTerminal(context.terminal);
        if (!venue) continue;
        this.venueOf.set(context.transfer_id, venue);
        const amount = this.unplaced.get(context.transfer_id);
        if (amount !== undefined) {
          this.unplaced.delete(context.transfer_id);
          this.add("other", -amount, -1);
          this.add(venue, amount, 1);
        }
      }
    }
    forgetOldest(this.venueOf);
    forgetOldest(this.unplaced);
  }

  add(venue, amount, count) {
    const row = this.perVenue.get(venue) || { venue, amount: 0, count: 0 };
    row.amount += amount;
    row.count += count;
    if (row.count > 0) this.perVenue.set(venue, row);
    else this.perVenue.delete(venue);
  }

  /**
   * payments.transfers: count decisions and add accepted amounts to their venue. Only `news`
   * counts towards transfers per second: a snapshot's decisions were made before the page.
   */
  applyDecisions(envelopes, news = true, now = Date.now()) {
    const second = Math.floor(now / 1000);
    let bucket = this.seconds.get(second);
    if (!bucket) {
      bucket = { ok: 0, rejected: 0 };
      this.seconds.set(second, bucket);
      for (const old of this.seconds.keys()) if (old < second - 60) this.seconds.delete(old);
    }
    for (const { data, time } of envelopes) {
      if (!data || data.type !== "transfers_decided" || data.replayed) continue;
      const at = new Date(time);
      if (!this.first || at < this.first) this.first = at;
      for (const result of news ? data.results || [] : []) {
        if (result === "ok") bucket.ok += 1;
        else bucket.rejected += 1;
      }
      this.totals.ok += (data.results || []).filter((r) => r === "ok").length;
      this.totals.rejected += (data.results || []).filter((r) => r !== "ok").length;
      for (const transfer of data.transfers || []) {
        const amount = transfer.amount || 0;
        this.totals.amount += amount;
        const venue = this.venueOf.get(transfer.id);
        if (!venue) this.unplaced.set(transfer.id, amount);
        this.add(venue || "other", amount, 1);
      }
    }
  }

  /** payments.alerts */
  applyAlerts(envelopes) {
    for (const envelope of envelopes) {
      const data = envelope.data;
      if (!data || data.type !== "fraud_alert") continue;
      this.totals.alerts += 1;
      if (data.blocked) this.totals.blocked += 1;
      this.alerts.unshift({ ...data, time: envelope.time, venue: venueOfTerminal(data.terminal),
                            key: `${envelope.partition}:${envelope.offset}` });
    }
    this.alerts.length = Math.min(this.alerts.length, ALERT_LIMIT);
  }

  /** Accepted and rejected transfers per second over the last few whole seconds. */
  rates(now = Date.now()) {
    const current = Math.floor(now / 1000);
    let ok = 0;
    let rejected = 0;
    for (let second = current - RATE_WINDOW_S; second < current; second += 1) {
      const bucket = this.seconds.get(second);
      if (bucket) {
        ok += bucket.ok;
        rejected += bucket.rejected;
      }
    }
    return { ok: ok / RATE_WINDOW_S, rejected: rejected / RATE_WINDOW_S };
  }

  venues() {
    return [...this.perVenue.values()].sort((a, b) => b.amount - a.amount);
  }
}
