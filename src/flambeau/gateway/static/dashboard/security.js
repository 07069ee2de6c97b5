// The security panel: open incidents (crowds.incidents) and the staffing plan per venue
// (crowds.staffing). Both streams are private: the page shows them to a key that may read them.

import { formatClock, formatCount, h, replace } from "./dom.js";

const ROWS = 12;

/** Incidents by id, latest state; plans by venue. */
export function createSecurity() {
  const incidents = new Map();
  const plans = new Map();
  return {
    incidents,
    plans,
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

export function createSecurityView({ incidents, incidentsEmpty, staffing, staffingEmpty }, { security, availability }) {
  return function render() {
    const open = [...security.incidents.values()]
      .sort((a, b) => b.opened_at.localeCompare(a.opened_at) || b.id.localeCompare(a.id))
      .slice(0, ROWS);
    replace(incidents, open.map((incident) => h("li", { class: `incident sev-${incident.severity}`, dataset: { incident: incident.id } },
      h("time", { datetime: incident.opened_at }, formatClock(new Date(incident.opened_at))), " ",
      h("strong", {}, incident.kind.replaceAll("_", " ")), " ",
      h("span", { class: "status" }, incident.status), " ",
      h("span", { class: "muted" }, `${incident.id} · ${incident.zone}${incident.reports > 1 ? ` · ${incident.reports} reports` : ""}`))));
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
