// Changes and cash-outs per minute, from betting.decisions: every decided change
// (ticket_changed, change_rejected) and cash-out (cash_out_accepted, cash_out_rejected),
// counted in the minute of its decision's event time. The rehearsal's bettors change and cash
// out most just before each match's cut-off; the refusals after it show here too.

const KINDS = {
  ticket_changed: ["changes", "accepted"],
  change_rejected: ["changes", "refused"],
  cash_out_accepted: ["cashOuts", "accepted"],
  cash_out_rejected: ["cashOuts", "refused"],
};
export const MINUTES_KEPT = 60;

export class TicketActivity {
  constructor() {
    this.minutes = new Map(); // minute (ms since the epoch) -> counts
  }

  reset() {
    this.minutes.clear();
  }

  /** Apply betting.decisions envelopes (other decisions are ignored). */
  apply(envelopes) {
    for (const { data, time } of envelopes) {
      const kind = data && KINDS[data.type];
      if (!kind || !time) continue;
      const minute = Math.floor(Date.parse(time) / 60000) * 60000;
      let counts = this.minutes.get(minute);
      if (!counts) {
        counts = { minute, changes: 0, cashOuts: 0, accepted: 0, refused: 0, cutoff: 0 };
        this.minutes.set(minute, counts);
        const oldest = [...this.minutes.keys()].sort((a, b) => a - b);
        while (oldest.length > MINUTES_KEPT) this.minutes.delete(oldest.shift());
      }
      counts[kind[0]] += 1;
      counts[kind[1]] += 1;
      if (data.reason === "cutoff_passed") counts.cutoff += 1;
    }
  }

  /** The counts per minute, the latest first. */
  perMinute() {
    return [...this.minutes.values()].sort((a, b) => b.minute - a.minute);
  }

  /** One line for the panel: the latest minute's changes and cash-outs. */
  summary() {
    const [latest] = this.perMinute();
    if (!latest) return "No changes or cash-outs yet.";
    const clock = new Date(latest.minute).toISOString().slice(11, 16);
    const refused = latest.refused ? `, ${latest.refused} refused` : "";
    const cutoff = latest.cutoff ? ` (${latest.cutoff} after the cut-off)` : "";
    return `${latest.changes} changes/min · ${latest.cashOuts} cash-outs/min at ${clock} UTC${refused}${cutoff}`;
  }
}
