// The security panel: open incidents (crowds.incidents) and the staffing plan per venue
// (crowds.staffing). Both streams are private: the page shows them to a key that may read them.
// Each open incident has Acknowledge and Resolve buttons, which call the incident routes with
// the page's key. They work only for a key holding `write:crowds.actions` (the security
// operators' scope); the page's default key reads only, so the buttons are then disabled and
// say why. The page asks GET /v1/crowds/incidents/permissions what its key may do, once per key.

import { formatClock, formatCount, h, replace } from "./dom.js";

const ROWS = 12;
const PROBE = "/v1/crowds/incidents/permissions";
const NEEDS = "needs a key with write:crowds.actions (security operators); this key reads only";

/** Incidents by id, latest state; plans by venue. */
export function createSecurity() {
  const incidents = new Map();
  const plans = new Map();
  return {
    incidents,
    plans,
    act: { key: null, allowed: false, why: "checking what this key may do…", pending: new Set(), message: "" },
    applyIncidents(envelopes) {
      for (const { data } of envelopes) {
        if (!data || data.type !== "incident") continue;
        if (data.status === "resolved") incidents.delete(data.id);
        else incidents.set(data.id, data);
      }
    },
    applyPlans(envelopes) {
      for (const { data } of envelopes) {
        if (data && data.type === "staffing_plan") plans.set(data.venue, data);
      }
    },
    reset(stream) {
      if (stream === "crowds.incidents") incidents.clear();
      else plans.clear();
    },
  };
}

/** The slot of a plan covering now, or its first one. */
function currentSlot(plan) {
  const now = Date.now();
  const slots = plan.slots || [];
  return slots.find((slot) => Date.parse(slot.slot) <= now && now < Date.parse(slot.slot) + 900_000) || slots[0];
}

/** Whether the page's key may act on incidents: asks once per key (see the header). */
async function probe(security, headers, changed, readable) {
  const act = security.act;
  act.key = headers().Authorization || "";
  act.allowed = false;
  act.why = "checking what this key may do…";
  let why;
  if (!readable) {
    why = `Acknowledging and resolving ${NEEDS.replace("this key reads only", "this key cannot read incidents")}.`;
  } else {
    try {
      const response = await fetch(PROBE, { headers: headers(), cache: "no-store" });
      if (response.ok) why = (await response.json()).allowed ? null : `Acknowledging and resolving ${NEEDS}.`;
      else if (response.status === 404) why = "This gateway does not serve the incident routes.";
      else why = `${PROBE} answered ${response.status}.`;
    } catch (error) {
      why = `Could not reach the incident routes: ${error.message}`;
    }
  }
  if (act.key !== (headers().Authorization || "")) return; // the key changed meanwhile
  act.allowed = why === null;
  act.why = why || "";
  changed();
}

/** POST an action on an incident; the stream then brings its new status. */
async function perform(security, headers, changed, id, action) {
  const act = security.act;
  act.pending.add(`${id}/${action}`);
  changed();
  try {
    const response = await fetch(`/v1/crowds/incidents/${encodeURIComponent(id)}/${action}`, {
      method: "POST", headers: headers(), cache: "no-store",
    });
    if (response.status === 202) act.message = `${id}: ${action === "ack" ? "acknowledged" : "resolved"}.`;
    else {
      const problem = await response.json().catch(() => ({}));
      act.message = `${id}: ${problem.detail || problem.title || `answered ${response.status}`}`;
      if (response.status === 401 || response.status === 403) {
        act.allowed = false;
        act.why = `Acknowledging and resolving ${NEEDS}.`;
      }
    }
  } catch (error) {
    act.message = `${id}: ${error.message}`;
  } finally {
    act.pending.delete(`${id}/${action}`);
    changed();
  }
}

function buttons(incident, act) {
  const button = (action, label) => h("button", {
    type: "button", class: "act", dataset: { action, incident: incident.id },
    disabled: !act.allowed || act.pending.has(`${incident.id}/${action}`),
    title: act.allowed ? `${label} ${incident.id}` : act.why,
    "aria-label": `${label} ${incident.id}`,
  }, label);
  return h("span", { class: "actions" },
    incident.status === "open" ? button("ack", "Acknowledge") : null,
    button("resolve", "Resolve"));
}

export function createSecurityView({ incidents, incidentsEmpty, staffing, staffingEmpty, actions }, { security, availability, headers, changed }) {
  incidents.addEventListener("click", (event) => {
    const target = event.target.closest("button.act");
    if (!target || target.disabled) return;
    perform(security, headers, changed, target.dataset.incident, target.dataset.action);
  });
  return function render() {
    if (security.act.key !== (headers().Authorization || "")) {
      probe(security, headers, changed, headers().Authorization && !availability("crowds.incidents"));
    }
    actions.textContent = security.act.allowed ? security.act.message : security.act.why;
    const open = [...security.incidents.values()]
      .sort((a, b) => b.opened_at.localeCompare(a.opened_at) || b.id.localeCompare(a.id))
      .slice(0, ROWS);
    replace(incidents, open.map((incident) => h("li", { class: `incident sev-${incident.severity}`, dataset: { incident: incident.id } },
      h("time", { datetime: incident.opened_at }, formatClock(new Date(incident.opened_at))), " ",
      h("strong", {}, incident.kind.replaceAll("_", " ")), " ",
      h("span", { class: "status" }, incident.status), " ",
      h("span", { class: "muted" }, `${incident.id} · ${incident.zone}${incident.reports > 1 ? ` · ${incident.reports} reports` : ""}`), " ",
      buttons(incident, security.act))));
    incidentsEmpty.hidden = open.length > 0;
    if (!open.length) incidentsEmpty.textContent = availability("crowds.incidents") || "No open incidents.";
    const plans = [...security.plans.values()].sort((a, b) => a.venue.localeCompare(b.venue)).slice(0, ROWS);
    replace(staffing, plans.map((plan) => {
      const slot = currentSlot(plan);
      return h("tr", { dataset: { venue: plan.venue } },
        h("th", { scope: "row" }, plan.venue),
        h("td", { class: "num" }, slot ? formatCount(slot.stewards) : "–"),
        h("td", { class: "num" }, slot ? formatCount(slot.police) : "–"),
        h("td", { class: "muted" }, plan.cause));
    }));
    staffingEmpty.hidden = plans.length > 0;
    if (!plans.length) staffingEmpty.textContent = availability("crowds.staffing") || "No staffing plans yet.";
  };
}
