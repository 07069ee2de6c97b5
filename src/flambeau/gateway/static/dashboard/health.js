// The health model: what /metrics and /v1/streams say every few seconds, the sources that
// ops.health reports up or down, and the series the throughput and latency chart draws.

export const SERIES_SPAN_MS = 10 * 60 * 1000;

/**
 * Parse the Prometheus text format into {name: [{labels, value}]}. Only what the gateway
 * writes is handled: no timestamps, no escapes beyond \" and \\ in label values.
 */
export function parseMetrics(text) {
  const metrics = {};
  const line = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$/;
  const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  for (const raw of text.split("\n")) {
    if (!raw || raw.startsWith("#")) continue;
    const match = line.exec(raw.trim());
    if (!match) continue;
    const labels = {};
    for (const pair of (match[3] || "").matchAll(label)) {
      labels[pair[1]] = pair[2].replace(/\\(.)/g, "$1");
    }
    const value = match[4] === "+Inf" ? Infinity : Number(match[4]);
    (metrics[match[1]] ??= []).push({ labels, value });
  }
  return metrics;
}

/** Sum a metric's samples, optionally grouped by one label. */
export function sum(metrics, name, by = null) {
  const samples = metrics[name] || [];
  if (!by) return samples.reduce((total, sample) => total + sample.value, 0);
  const groups = {};
  for (const sample of samples) {
    const key = sample.labels[by] ?? "";
    groups[key] = (groups[key] || 0) + sample.value;
  }
  return groups;
}

/** Cumulative histogram buckets {le: count} summed over every label set but `le`. */
export function buckets(metrics, name) {
  const out = new Map();
  for (const sample of metrics[`${name}_bucket`] || []) {
    const le = sample.labels.le === "+Inf" ? Infinity : Number(sample.labels.le);
    out.set(le, (out.get(le) || 0) + sample.value);
  }
  return new Map([...out.entries()].sort((a, b) => a[0] - b[0]));
}

/**
 * The q-quantile of the observations between two scrapes of a cumulative histogram, by linear
 * interpolation inside the bucket that holds it (as Prometheus' histogram_quantile does).
 * Returns null when nothing was observed in between.
 */
export function quantileBetween(before, after, q) {
  const bounds = [...after.keys()];
  const delta = bounds.map((le) => (after.get(le) || 0) - ((before && before.get(le)) || 0));
  const total = delta[delta.length - 1];
  if (!total || total <= 0) return null;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (let i = 0; i < bounds.length; i += 1) {
    if (delta[i] >= rank) {
      const upper = bounds[i];
      if (upper === Infinity) return lower; // beyond the last bound: report the bound
      const inBucket = delta[i] - below;
      return inBucket > 0 ? lower + ((upper - lower) * (rank - below)) / inBucket : upper;
    }
    lower = bounds[i];
    below = delta[i];
  }
  return lower;
}

/** The q-quantile of a plain array of numbers (nearest rank). */
export function quantile(values, q) {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

export class HealthModel {
  constructor() {
    this.streams = []; // [{name, rate, end, public}]
    this.streamInfo = new Map(); // name -> /v1/streams entry
    this.metricsOk = null; // null unknown, true, or an error text
    this.p99 = null; // ms, gateway delivery latency over the last scrape interval
    this.pageP99 = null; // ms, ingest -> this page
    this.subscribers = null;
    this.connections = null;
    this.lag = []; // [{processor, lag}]
    this.sources = new Map(); // source -> {status, at, since}
    this.series = []; // [{t, eps, p99, pageP99}]
    this.received = 0;
    this.pageLatencies = [];
    this.last = null; // previous scrape: {t, ends, latency}
    this.samples = 0;
  }

  resetSources() {
    this.sources.clear();
  }

  /** Every event the page receives: its ingest-to-page delay, for the page's own p99. */
  observe(envelopes, now = Date.now()) {
    this.received += envelopes.length;
    for (const envelope of envelopes) {
      const ingested = Date.parse(envelope.ingested_at);
      if (!Number.isNaN(ingested)) this.pageLatencies.push(Math.max(0, now - ingested));
    }
    if (this.pageLatencies.length > 20_000) this.pageLatencies.splice(0, 10_000);
  }

  /** ops.health envelopes: keep-alives, source down and source up. */
  applyHealth(envelopes) {
    for (const { data } of envelopes) {
      if (!data || !data.source) continue;
      const known = this.sources.get(data.source);
      switch (data.type) {
        case "keep_alive":
          this.sources.set(data.source, { status: known?.status === "down" ? "down" : "up",
                                          at: data.seen_at, since: known?.since ?? data.seen_at });
          break;
        case "source_up":
          this.sources.set(data.source, { status: "up", at: data.seen_at, since: data.seen_at });
          break;
        case "source_down":
          this.sources.set(data.source, { status: "down", at: data.last_seen, since: data.detected_at });
          break;
        default:
          break;
      }
    }
  }

  /** One scrape: `streams` from /v1/streams (or null), `metrics` parsed (or null). */
  sample(streams, metrics, now = Date.now()) {
    const ends = new Map();
    if (streams) {
      for (const info of streams) {
        this.streamInfo.set(info.name, info);
        ends.set(info.name, Object.values(info.end).reduce((a, b) => a + b, 0));
      }
    }
    const previous = this.last;
    const seconds = previous ? (now - previous.t) / 1000 : 0;
    if (streams) {
      this.streams = streams.map((info) => {
        const before = previous?.ends.get(info.name);
        const rate = seconds > 0 && before !== undefined ? Math.max(0, (ends.get(info.name) - before) / seconds) : null;
        return { name: info.name, rate, end: ends.get(info.name), public: info.public };
      });
    }
    let latency = null;
    if (metrics) {
      latency = buckets(metrics, "flambeau_delivery_latency_seconds");
      const p99 = latency.size ? quantileBetween(previous?.latency, latency, 0.99) : null;
      this.p99 = p99 === null ? null : p99 * 1000;
      this.subscribers = sum(metrics, "flambeau_subscribers");
      this.connections = sum(metrics, "flambeau_connections");
      const lag = sum(metrics, "flambeau_processor_lag", "processor");
      this.lag = Object.entries(lag).map(([processor, value]) => ({ processor, lag: value }))
        .sort((a, b) => b.lag - a.lag || a.processor.localeCompare(b.processor));
    }
    this.pageP99 = quantile(this.pageLatencies, 0.99);
    this.pageLatencies = [];
    const eps = streams && seconds > 0
      ? this.streams.reduce((total, row) => total + (row.rate || 0), 0)
      : null;
    this.samples += 1;
    // The first interval after the page opens holds its own snapshot: deliveries of events
    // ingested long ago. Charting it would dwarf every later point, so the chart starts after.
    if (previous && this.samples > 2 && (streams || metrics)) {
      this.series.push({ t: now, eps, p99: metrics ? this.p99 : null, pageP99: this.pageP99 });
    }
    while (this.series.length && this.series[0].t < now - SERIES_SPAN_MS) this.series.shift();
    this.last = { t: now, ends: streams ? ends : previous?.ends ?? new Map(), latency: latency ?? previous?.latency };
  }

  totalRate() {
    return this.streams.reduce((total, row) => total + (row.rate || 0), 0);
  }
}
