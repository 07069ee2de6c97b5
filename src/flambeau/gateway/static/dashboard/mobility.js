// The mobility panel: closures and delivery routes on a map of the Paris region, late-risk
// deliveries, and transit line states. Fed by mobility.roads and mobility.transit (public) and
// mobility.routes (a key sees its own tenant's deliveries; the operations room's key, all).

import { formatClock, h, replace, s } from "./dom.js";

// The box of the generated road network (south, west, north, east), drawn into a 600x300 view.
const BOX = [48.74, 1.94, 48.99, 2.66];
const VIEW = [600, 300];
const LATE_ROWS = 10;

function xy([lat, lon]) {
  const x = ((lon - BOX[1]) / (BOX[3] - BOX[1])) * VIEW[0];
  const y = ((BOX[2] - lat) / (BOX[2] - BOX[0])) * VIEW[1];
  return `${x.toFixed(1)},${y.toFixed(1)}`;
}

export class MobilityModel {
  constructor() {
    this.roads = new Map(); // incident id -> road_state
    this.deliveries = new Map(); // delivery id -> {route, late}
    this.lines = new Map(); // route id -> line_status
  }

  apply(envelopes) {
    for (const { data } of envelopes) {
      if (!data) continue;
      if (data.type === "road_state") this.roads.set(data.incident_id, data);
      else if (data.type === "line_status") this.lines.set(data.route_id, data);
      else if (data.type === "delivery_routed") {
        const known = this.deliveries.get(data.delivery_id);
        this.deliveries.set(data.delivery_id, {
          route: data, late: null, reroutes: known ? known.reroutes + 1 : 0,
        });
      } else if (data.type === "late_risk") {
        const known = this.deliveries.get(data.delivery_id);
        if (known) known.late = data;
      }
    }
  }

  reset(stream) {
    if (stream === "mobility.roads") this.roads.clear();
    else if (stream === "mobility.transit") this.lines.clear();
    else this.deliveries.clear();
  }

  late() {
    return [...this.deliveries.values()].filter((d) => d.late).sort((a, b) => b.late.late_by_s - a.late.late_by_s);
  }
}

function lateRow({ route, late }) {
  const best = late.best_departure ? `leave by ${formatClock(new Date(late.best_departure))}` : "no departure makes it";
  return h("li", { class: "alert", dataset: { delivery: route.delivery_id } },
    h("strong", {}, route.delivery_id), " ",
    h("span", { class: "muted" }, `${route.origin} → ${route.destination}, ${late.cargo || route.vehicle_class}`), " ",
    h("span", { class: "status" }, late.eta ? `${Math.round(late.late_by_s / 60)} min late` : "no route"), " ",
    h("span", { class: "muted" }, `cause ${late.incident_id || "—"}; ${best}`));
}

export function createMobilityView({ svg, stats, late, lateEmpty, lines }, { mobility, availability }) {
  return function render() {
    const roads = [...mobility.roads.values()].filter((road) => road.state !== "open");
    const deliveries = [...mobility.deliveries.values()];
    replace(svg,
      s("title", {}, "Road closures and delivery routes"),
      ...deliveries.filter((d) => d.route.path.length > 1).map((d) => s("polyline", {
        class: `route${d.late ? " late" : ""}${d.reroutes ? " rerouted" : ""}`,
        points: d.route.path.map(xy).join(" "), dataset: { delivery: d.route.delivery_id } })),
      ...roads.map((road) => s(road.state === "restricted" ? "polygon" : "polyline", {
        class: `road road-${road.state}`, points: road.polyline.map(xy).join(" "),
        dataset: { incident: road.incident_id } })));
    const rerouted = deliveries.filter((d) => d.reroutes > 0).length;
    replace(stats,
      h("div", {}, h("dt", {}, "Closures"), h("dd", { dataset: { stat: "closures" } }, String(roads.length))),
      h("div", {}, h("dt", {}, "Deliveries"), h("dd", { dataset: { stat: "deliveries" } }, String(deliveries.length))),
      h("div", {}, h("dt", {}, "Rerouted"), h("dd", { dataset: { stat: "rerouted" } }, String(rerouted))),
      h("div", {}, h("dt", {}, "Late risk"), h("dd", { dataset: { stat: "late" } }, String(mobility.late().length))));
    const risky = mobility.late().slice(0, LATE_ROWS);
    replace(late, ...risky.map(lateRow));
    lateEmpty.hidden = risky.length > 0;
    if (!risky.length) lateEmpty.textContent = availability("mobility.routes") || "No delivery at risk.";
    replace(lines, ...[...mobility.lines.values()].sort((a, b) => a.route_id.localeCompare(b.route_id)).map((line) =>
      h("li", { dataset: { line: line.route_id, state: line.state } },
        h("strong", {}, line.route_id), " ", h("span", { class: `status line-${line.state}` }, line.state),
        line.header ? h("span", { class: "muted" }, ` ${line.header}`) : null)));
  };
}
