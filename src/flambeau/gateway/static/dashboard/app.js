// The dashboard's entry point: the API key, the subscriptions, the polling of /v1/streams and
// /metrics, and the wiring of models to views. Nothing here reloads the page: every change
// arrives over one WebSocket (or a poll) and is drawn in the next animation frame.

import { createAnalyticsView, fetchPlans } from "./analytics-view.js";
import { createRentalsView, fetchRentals } from "./rentals-view.js";
import { BettingModel } from "./betting.js";
import { TicketActivity } from "./betting-activity.js";
import { createBettingView } from "./betting-view.js";
import { createChartView } from "./chart.js";
import { State, StreamClient } from "./connection.js";
import { HealthModel, parseMetrics } from "./health.js";
import { createHealthView } from "./health-view.js";
import { createMapView } from "./map.js";
import { createMobilityView, MobilityModel } from "./mobility.js";
import { PaymentsModel } from "./payments.js";
import { createPaymentsView } from "./payments-view.js";
import { ResultsModel } from "./results.js";
import { createMedalsView, createTickerView, createUnitView, Selection } from "./results-view.js";
import { FrameScheduler } from "./scheduler.js";
import { createSecurity, createSecurityView } from "./security.js";

const KEY_STORAGE = "flambeau.dashboard.key";
const POLL_MS = 2000;

const $ = (id) => document.getElementById(id);

const results = new ResultsModel();
const betting = new BettingModel();
const activity = new TicketActivity();
const payments = new PaymentsModel();
const health = new HealthModel();
const mobility = new MobilityModel();
const crowds = new Map(); // venue code -> {level, people, time}
const security = createSecurity();
const selection = new Selection();
const scheduler = new FrameScheduler();
const refused = new Map(); // stream -> why the page cannot read it
let plans = { plans: [], kpis: [], why: "" };
let rentals = { areas: [], moves: [], why: "" };
let key = readStoredKey();
let streamNames = new Set();

function readStoredKey() {
  try {
    return localStorage.getItem(KEY_STORAGE) || "";
  } catch {
    return ""; // storage disabled: the key lasts as long as the page
  }
}

function storeKey(value) {
  try {
    if (value) localStorage.setItem(KEY_STORAGE, value);
    else localStorage.removeItem(KEY_STORAGE);
  } catch {
    // storage disabled: keep it in memory only
  }
}

/** crowds.venues: each venue's latest occupancy and Fruin level, each zone's level; alerts while any zone's is raised. */
function applyCrowds(envelopes) {
  for (const { data, time } of envelopes) {
    if (!data || !data.venue) continue;
    const known = crowds.get(data.venue) || { alert: false };
    if (data.type === "venue_crowd") {
      crowds.set(data.venue, { ...known, level: data.level, occupancy: data.occupancy,
                               capacity: data.capacity, time });
    } else if (data.type === "zone_crowd") {
      const zones = { ...known.zones, [data.zone]: { level: data.level, role: data.role, alert: data.alert } };
      crowds.set(data.venue, { ...known, zones, level: known.level || data.level, time });
    } else if (data.type === "crowd_alert") {
      // each zone has its own alert: the venue is outlined while any of its zones is raised
      const raised = new Set(known.raised || []);
      if (data.raised) raised.add(data.area);
      else raised.delete(data.area);
      crowds.set(data.venue, { ...known, raised: [...raised], alert: raised.size > 0, time });
    }
  }
}

// What the page follows, where each subscription first starts, and who takes its events.
// A window starts N events back in every partition: enough to show what is live now without
// replaying a whole day at load.
const FEEDS = [
  { stream: "results.units", start: { window: 300 }, apply: (events) => {
    results.applyUnits(events);
    scheduler.mark("ticker", "unit", "map");
  }, reset: () => results.reset("results.units") },
  { stream: "results.medals", start: "earliest", apply: (events, news) => {
    results.applyMedals(events, news);
    scheduler.mark("medals");
  }, reset: () => results.reset("results.medals") },
  { stream: "results.schedule", start: { window: 200 }, apply: (events) => {
    results.applySchedule(events);
    scheduler.mark("unit", "map");
  }, reset: () => results.reset("results.schedule") },
  { stream: "betting.odds", start: { window: 200 }, apply: (events) => {
    betting.apply(events);
    scheduler.mark("betting");
  }, reset: () => betting.reset() },
  { stream: "betting.decisions", start: { window: 500 }, apply: (events) => {
    activity.apply(events);
    scheduler.mark("betting");
  }, reset: () => activity.reset() },
  // requests reach further back than decisions so each decision finds its request's venue
  { stream: "payments.requests", start: { window: 400 }, apply: (events) => payments.applyRequests(events),
    reset: () => payments.reset("payments.requests") },
  { stream: "payments.transfers", start: { window: 100 }, apply: (events, news) => {
    payments.applyDecisions(events, news);
    scheduler.mark("payments");
  }, reset: () => payments.reset("payments.transfers") },
  { stream: "payments.alerts", start: { window: 10 }, apply: (events) => {
    payments.applyAlerts(events);
    scheduler.mark("payments");
  }, reset: () => payments.reset("payments.alerts") },
  // the crowds service's derived stream: occupancy and the Fruin level per venue
  { stream: "crowds.venues", start: { window: 100 }, apply: (events) => {
    applyCrowds(events);
    scheduler.mark("map");
  }, reset: () => crowds.clear() },
  { stream: "crowds.incidents", start: { window: 200 }, apply: (events) => {
    security.applyIncidents(events);
    scheduler.mark("security");
  }, reset: () => security.reset("crowds.incidents") },
  { stream: "crowds.staffing", start: { window: 50 }, apply: (events) => {
    security.applyPlans(events);
    scheduler.mark("security");
  }, reset: () => security.reset("crowds.staffing") },
  // mobility: closures and perimeters, delivery routes and alerts (per tenant), line states
  ...["mobility.roads", "mobility.routes", "mobility.transit"].map((stream) => ({
    stream, start: { window: 500 }, apply: (events) => {
      mobility.apply(events);
      scheduler.mark("mobility");
    }, reset: () => mobility.reset(stream) })),
  { stream: "ops.health", start: { window: 200 }, apply: (events) => {
    health.applyHealth(events);
    scheduler.mark("health");
  }, reset: () => health.resetSources() },
];
function feedFor(stream) {
  return FEEDS.find((feed) => feed.stream === stream) || null;
}

/** The first `from` of a feed: "earliest", "latest", or N back from each partition's end. */
function startOf(feed) {
  if (typeof feed.start === "string") return feed.start;
  const info = health.streamInfo.get(feed.stream);
  if (!info) return "latest";
  const parts = [];
  for (let partition = 0; partition < info.partitions; partition += 1) {
    const first = info.start[partition] ?? 0;
    const end = info.end[partition] ?? 0;
    parts.push(`${partition}:${Math.max(first, end - feed.start.window)}`);
  }
  return parts.join(",");
}

function endOf(stream) {
  const info = health.streamInfo.get(stream);
  if (!info) return null;
  return Array.from({ length: info.partitions }, (_, partition) => info.end[partition] ?? 0);
}

function availability(stream) {
  if (refused.has(stream)) return refused.get(stream);
  if (streamNames.size && !streamNames.has(stream)) {
    return key ? `This key cannot read ${stream}.` : `Enter an API key to read ${stream}.`;
  }
  return null;
}

function authHeaders() {
  return key ? { Authorization: `Bearer ${key}` } : {};
}

function socketUrl() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const query = key ? `?key=${encodeURIComponent(key)}` : "";
  return `${scheme}://${location.host}/v1/ws${query}`;
}

function showNotice(text) {
  const notice = $("notice");
  notice.textContent = text;
  notice.hidden = !text;
}

const CONNECTION_TEXT = {
  idle: "Starting…",
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  unauthorized: "Key refused",
  stopped: "Stopped",
};

const client = new StreamClient({
  url: socketUrl,
  state(state, detail) {
    const pill = $("connection");
    pill.dataset.state = state;
    let text = CONNECTION_TEXT[state];
    if (state === State.RECONNECTING && detail.attempt > 1) text = `Reconnecting… (attempt ${detail.attempt})`;
    if (state === State.CONNECTING && detail.attempt) text = `Reconnecting… (attempt ${detail.attempt})`;
    pill.textContent = text;
    if (state === State.UNAUTHORIZED) {
      $("key-state").textContent = "The gateway refused this key; enter another.";
    }
    scheduler.mark("health");
  },
  events(stream, events, news) {
    // only news measures delivery: a snapshot's events were ingested long before the page asked
    if (news) health.observe(events);
    else health.received += events.length;
    feedFor(stream)?.apply(events, news);
  },
  gap(stream, reason) {
    showNotice(`${stream} could not resume (${reason}); its view was rebuilt from a fresh snapshot.`);
    feedFor(stream)?.reset?.();
    scheduler.mark("ticker", "unit", "medals", "map", "betting", "payments", "health");
  },
  refused(stream, problem) {
    refused.set(stream, problem.detail || problem.title);
    feedFor(stream)?.reset?.(); // what an earlier key could read is not shown to this one
    scheduler.mark("payments", "health", "betting");
  },
});

function follow(names) {
  for (const name of names) {
    const feed = feedFor(name);
    if (feed && !client.has(name)) client.add(name, name, () => startOf(feed), () => endOf(name));
  }
}

async function fetchStreams() {
  const response = await fetch("/v1/streams", { headers: authHeaders(), cache: "no-store" });
  if (response.status === 401) throw Object.assign(new Error("key refused"), { status: 401 });
  if (!response.ok) throw new Error(`/v1/streams answered ${response.status}`);
  return response.json();
}

async function fetchMetrics() {
  const response = await fetch("/metrics", { headers: authHeaders(), cache: "no-store" });
  if (response.status === 401 || response.status === 403) {
    health.metricsOk = "/metrics needs an admin key on this gateway.";
    return null;
  }
  if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
  health.metricsOk = true;
  return parseMetrics(await response.text());
}

async function poll() {
  const [streams, metrics, analytics, prices] = await Promise.allSettled([fetchStreams(), fetchMetrics(), fetchPlans(authHeaders()), fetchRentals(authHeaders())]);
  if (analytics.status === "fulfilled") plans = analytics.value;
  if (prices.status === "fulfilled") rentals = prices.value;
  const list = streams.status === "fulfilled" ? streams.value : null;
  if (list) {
    streamNames = new Set(list.map((info) => info.name));
    follow(list.map((info) => info.name));
  }
  if (metrics.status === "rejected" && health.metricsOk === true) health.metricsOk = "/metrics is not answering.";
  health.sample(list, metrics.status === "fulfilled" ? metrics.value : null);
  scheduler.mark("health", "chart", "payments", "betting", "analytics", "rentals");
}

function pollForever() {
  setTimeout(async () => {
    try {
      await poll();
    } catch (error) {
      console.warn("poll failed", error);
    }
    pollForever();
  }, POLL_MS);
}

function showKeyState() {
  $("key-forget").hidden = !key;
  // a key's id (fbk_<id>_<secret>) is public: show it, never the secret
  const id = /^(fbk_[0-9a-f]+)_/.exec(key);
  $("key-state").textContent = key ? `Using key ${id ? id[1] : `…${key.slice(-4)}`}` : "Public streams only.";
  $("key-input").value = "";
  scheduler.mark("security"); // the incident buttons depend on what the key may do
}

async function useKey(value) {
  const previous = key;
  key = value;
  try {
    const list = await fetchStreams();
    streamNames = new Set(list.map((info) => info.name));
  } catch (error) {
    key = previous;
    $("key-state").textContent = error.status === 401 ? "The gateway refused this key." : `Could not check the key: ${error.message}`;
    return false;
  }
  storeKey(value);
  refused.clear();
  showKeyState();
  return true;
}

function markAll() {
  scheduler.mark(...scheduler.views.keys());
}

function wireKeyForm() {
  $("key-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = $("key-input").value.trim();
    if (!value) return;
    if (await useKey(value)) {
      await poll().catch(() => {});
      client.restart();
      markAll();
    }
  });
  $("key-forget").addEventListener("click", async () => {
    key = "";
    storeKey("");
    refused.clear();
    showKeyState();
    await poll().catch(() => {});
    client.restart();
    markAll();
  });
}

function wireViews() {
  const select = (rsc) => {
    selection.pin(rsc);
    scheduler.mark("unit");
  };
  // Every view redraws in an animation frame; the busiest ones at most a few times a second,
  // which is faster than anyone reads and keeps the page responsive at full load.
  scheduler.add("ticker", createTickerView({ list: $("ticker"), empty: $("ticker-empty") }, { results, select }), { every: 100 });
  scheduler.add("unit", createUnitView({ chips: $("live-units"), detail: $("unit") }, {
    results, selection, changed: () => scheduler.mark("unit"),
  }), { every: 100 });
  scheduler.add("medals", createMedalsView({ body: $("medals").tBodies[0], empty: $("medals-empty") }, { results }));
  scheduler.add("map", createMapView({ svg: $("map"), list: $("venue-list") }, { results, crowds }), { every: 500 });
  scheduler.add("betting", createBettingView({ container: $("markets"), empty: $("markets-empty"), producers: $("producers"), activity: $("ticket-activity") }, { betting, activity, availability }), { every: 100 });
  scheduler.add("payments", createPaymentsView({
    stats: $("payment-stats"), amounts: $("amounts").tBodies[0], since: $("amounts-since"),
    alerts: $("alerts"), alertsEmpty: $("alerts-empty"),
  }, { payments, availability }), { every: 250 });
  scheduler.add("health", createHealthView({
    stats: $("health-stats"), rates: $("stream-rates").tBodies[0], lag: $("lag"), sources: $("sources"),
  }, { health, availability, connection: () => CONNECTION_TEXT[client.state] }), { every: 250 });
  scheduler.add("analytics", createAnalyticsView({
    forecasts: $("forecasts").tBodies[0], actions: $("actions"), empty: $("forecasts-empty"),
    chart: { svg: $("kpi-chart"), title: $("kpi-chart-title"), desc: $("kpi-chart-desc") },
  }, { state: () => plans, refresh: () => poll().catch(() => {}) }), { every: 1000 });
  scheduler.add("security", createSecurityView({
    incidents: $("incidents"), incidentsEmpty: $("incidents-empty"),
    staffing: $("staffing").tBodies[0], staffingEmpty: $("staffing-empty"), actions: $("incident-actions"),
  }, { security, availability, headers: authHeaders, changed: () => scheduler.mark("security") }), { every: 250 });
  scheduler.add("mobility", createMobilityView({
    svg: $("mobility-map"), stats: $("mobility-stats"), late: $("late-deliveries"),
    lateEmpty: $("late-empty"), lines: $("transit-lines"),
  }, { mobility, availability }), { every: 250 });
  scheduler.add("rentals", createRentalsView({ areas: $("rental-areas").tBodies[0], moves: $("rental-moves"), empty: $("rentals-empty") }, { state: () => rentals }), { every: 1000 });
  scheduler.add("chart", createChartView({ svg: $("chart"), desc: $("chart-svg-desc") }, { health }), { every: 1000 });
}

/**
 * A key handed over in the address's fragment (`#key=fbk_...`, as `flambeau up` prints it):
 * checked and kept like a typed one, then removed from the address bar and history. A fragment
 * never reaches the server, so the key is in no request line and no log.
 */
async function adoptKeyFromAddress() {
  const handed = new URLSearchParams(location.hash.slice(1)).get("key");
  if (!handed) return;
  history.replaceState(null, "", location.pathname + location.search);
  if (handed !== key) await useKey(handed);
}

async function start() {
  wireViews();
  wireKeyForm();
  showKeyState();
  await adoptKeyFromAddress();
  try {
    await poll();
  } catch (error) {
    console.warn("first poll failed", error);
  }
  if (key && !streamNames.size) {
    // the stored key was refused: say so, and carry on with the public streams
    $("key-state").textContent = "The saved key was refused; showing public streams only.";
    key = "";
    $("key-forget").hidden = false;
    await poll().catch(() => {});
  }
  client.start();
  pollForever();
}

start();
