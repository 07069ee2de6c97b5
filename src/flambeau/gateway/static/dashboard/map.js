// The venue map: an SVG drawn from the venues' coordinates, with an Île-de-France inset, a
// closer inset of Paris and its inner suburbs (most venues are within 10 km of each other),
// and a Tahiti inset (surfing, 15,700 km away). Each venue appears in the closest view that
// holds it; venues closer than a few pixels there share one marker.
// Each marker shows how many units are live there and, when a crowd stream reports it, the
// forecourt's Fruin level of service, with a row of small squares under it: one per zone of the
// venue (forecourt, gates, station...; the first ten of a shared marker's venues), coloured by
// the zone's own level and outlined while its alert is raised. A list beside it says the same in words.

import { formatCount, h, replace, s } from "./dom.js";
import { CORSICA, FRANCE, PARIS } from "./outline.js";
import { isLive } from "./results.js";
import { VENUES } from "./scenario-data.js";

const BOUNDS = {
  france: { south: 41.2, north: 51.3, west: -5.3, east: 9.8 },
  idf: { south: 48.73, north: 49.0, west: 1.92, east: 2.68 },
  paris: { south: 48.82, north: 48.945, west: 2.1, east: 2.56 },
  tahiti: { south: -18.0, north: -17.72, west: -149.45, east: -149.05 },
};
// Where each view sits: side by side on a wide screen; stacked, closest view first, on a phone
// (so the labels keep a legible size instead of shrinking with the screen).
const LAYOUTS = {
  wide: {
    width: 960, height: 520,
    boxes: {
      france: { x: 5, y: 5, width: 340, height: 360 },
      idf: { x: 360, y: 5, width: 595, height: 255 },
      paris: { x: 360, y: 275, width: 595, height: 240 },
      tahiti: { x: 10, y: 395, width: 130, height: 115 },
    },
  },
  narrow: {
    width: 400, height: 790,
    boxes: {
      paris: { x: 5, y: 5, width: 390, height: 168 },
      idf: { x: 5, y: 182, width: 390, height: 214 },
      france: { x: 5, y: 405, width: 390, height: 380 },
      tahiti: { x: 8, y: 722, width: 95, height: 60 },
    },
  },
};
const NARROW = "(max-width: 720px)";
const CLUSTER_PX = 12;

/** A function from [lat, lon] to [x, y] fitting `bounds` into `box` (equirectangular). */
export function projector({ box, bounds }) {
  const k = Math.cos((((bounds.south + bounds.north) / 2) * Math.PI) / 180);
  const width = (bounds.east - bounds.west) * k;
  const height = bounds.north - bounds.south;
  const scale = Math.min(box.width / width, box.height / height);
  const ox = box.x + (box.width - width * scale) / 2;
  const oy = box.y + (box.height - height * scale) / 2;
  return ([lat, lon]) => [ox + (lon - bounds.west) * k * scale, oy + (bounds.north - lat) * scale];
}

function inside(bounds, venue) {
  return venue.lat >= bounds.south && venue.lat <= bounds.north &&
    venue.lon >= bounds.west && venue.lon <= bounds.east;
}

function regionOf(venue) {
  for (const name of ["tahiti", "paris", "idf"]) {
    if (inside(BOUNDS[name], venue)) return name;
  }
  return "france";
}

/** Greedy clustering of projected points closer than CLUSTER_PX, so labels stay readable. */
function clusters(points) {
  const out = [];
  for (const point of points) {
    const near = out.find((c) => Math.hypot(c.x - point.x, c.y - point.y) < CLUSTER_PX);
    if (near) {
      near.venues.push(point.venue);
      near.x = (near.x * (near.venues.length - 1) + point.x) / near.venues.length;
      near.y = (near.y * (near.venues.length - 1) + point.y) / near.venues.length;
    } else {
      out.push({ x: point.x, y: point.y, venues: [point.venue] });
    }
  }
  return out;
}

const LEVELS = "ABCDEF";
const ZONE_ROLES = ["forecourt", "gate", "concourse", "stand", "station"];
const ZONES_SHOWN = 10;

/** A venue's zones, forecourt first, then gates, ..., stations; by name within a role. */
export function zonesOf(crowd) {
  const role = (zone) => (ZONE_ROLES.indexOf(zone.role) + ZONE_ROLES.length + 1) % (ZONE_ROLES.length + 1);
  return Object.entries(crowd?.zones || {})
    .map(([name, zone]) => ({ name, ...zone }))
    .sort((a, b) => role(a) - role(b) || a.name.localeCompare(b.name));
}

/** A zone's short name: "STA-G03" -> "G03". */
function shortName(zone, venue) {
  return zone.startsWith(`${venue}-`) ? zone.slice(venue.length + 1) : zone;
}

function worst(levels) {
  return levels.filter(Boolean).sort((a, b) => LEVELS.indexOf(b) - LEVELS.indexOf(a))[0] || null;
}

function localDay(time, venue) {
  const at = time ? new Date(time) : new Date();
  return new Date(at.getTime() + venue.utcOffset * 3_600_000).toISOString().slice(0, 10);
}

/** Which venue a unit is at: its own venue code, else the one venue holding its discipline that day. */
export function venueOfUnit(unit, byCode) {
  if (unit.venue && byCode.has(unit.venue)) return unit.venue;
  const time = unit.result?.start || unit.schedule?.start || null;
  const hosts = VENUES.filter((venue) => venue.sports.some(([discipline, first, last]) => {
    const day = localDay(time, venue);
    return discipline === unit.discipline && first <= day && day <= last;
  }));
  return hosts.length === 1 ? hosts[0].code : null;
}

export function createMapView({ svg, list }, { results, crowds }) {
  const byCode = new Map(VENUES.map((venue) => [venue.code, venue]));
  const markers = s("g", { class: "markers" });
  let groups = [];
  let signature = "";
  let width = 0;

  // The static layers, drawn once per layout: land, inset frames, where each inset sits.
  function build(layout) {
    const boxes = layout.boxes;
    const project = Object.fromEntries(Object.keys(BOUNDS).map((name) =>
      [name, projector({ box: boxes[name], bounds: BOUNDS[name] })]));
    const path = (points, projection) =>
      `M${points.map((p) => projection(p).map((v) => v.toFixed(1)).join(",")).join("L")}Z`;
    const frame = (name, title) => {
      const box = boxes[name];
      return [
        s("rect", { class: "inset", x: box.x, y: box.y, width: box.width, height: box.height, rx: 6 }),
        s("text", { class: "inset-title", x: box.x + 8, y: box.y + 18 }, title),
      ];
    };
    const mark = (inner, outer) => {
      const bounds = BOUNDS[inner];
      const [x0, y0] = project[outer]([bounds.north, bounds.west]);
      const [x1, y1] = project[outer]([bounds.south, bounds.east]);
      return s("rect", { class: "inset-mark", x: x0, y: y0, width: x1 - x0, height: y1 - y0 });
    };
    const [px, py] = project.paris([PARIS.lat, PARIS.lon]);
    const [prx] = project.paris([PARIS.lat, PARIS.lon + PARIS.rx]);
    const [, pry] = project.paris([PARIS.lat - PARIS.ry, PARIS.lon]);
    svg.setAttribute("viewBox", `0 0 ${layout.width} ${layout.height}`);
    width = layout.width;
    svg.querySelectorAll("g").forEach((g) => g.remove());
    svg.append(
      s("g", { class: "land", "aria-hidden": "true" },
        s("path", { d: path(FRANCE, project.france) }),
        s("path", { d: path(CORSICA, project.france) }),
        mark("idf", "france"),
        ...frame("idf", "Île-de-France"),
        mark("paris", "idf"),
        ...frame("paris", "Paris and inner suburbs"),
        s("ellipse", { class: "paris", cx: px, cy: py, rx: prx - px, ry: pry - py }),
        s("text", { class: "paris-label", x: px, y: pry + 16, "text-anchor": "middle" }, "Paris (périphérique)"),
        ...frame("tahiti", "Tahiti"),
      ),
      markers,
    );
    const points = { france: [], idf: [], paris: [], tahiti: [] };
    for (const venue of VENUES) {
      const region = regionOf(venue);
      const [x, y] = project[region]([venue.lat, venue.lon]);
      points[region].push({ x, y, venue });
    }
    groups = Object.values(points).flatMap(clusters);
    signature = ""; // markers must be redrawn at their new places
  }

  const narrow = window.matchMedia(NARROW);
  build(narrow.matches ? LAYOUTS.narrow : LAYOUTS.wide);
  narrow.addEventListener("change", () => {
    build(narrow.matches ? LAYOUTS.narrow : LAYOUTS.wide);
    render();
  });

  function render() {
    const live = new Map(); // venue code -> [unit]
    for (const unit of results.liveUnits()) {
      const code = venueOfUnit(unit, byCode);
      if (!code) continue;
      if (!live.has(code)) live.set(code, []);
      live.get(code).push(unit);
    }
    const next = [...live.entries()].map(([code, units]) => `${code}:${units.map((u) => u.rsc).join(",")}`).join(";") +
      "|" + [...crowds.entries()].map(([code, crowd]) => `${code}:${crowd.level}:${crowd.occupancy}:${crowd.alert}:` +
        zonesOf(crowd).map((zone) => `${zone.name}=${zone.level}${zone.alert ? "!" : ""}`).join(",")).join(";");
    if (next === signature) return; // nothing the map shows has changed
    signature = next;

    replace(markers, groups.map((group) => {
      const count = group.venues.reduce((total, venue) => total + (live.get(venue.code)?.length || 0), 0);
      const level = worst(group.venues.map((venue) => crowds.get(venue.code)?.level));
      const alert = group.venues.some((venue) => crowds.get(venue.code)?.alert);
      const label = group.venues.length > 2
        ? `${group.venues[0].code}+${group.venues.length - 1}`
        : group.venues.map((venue) => venue.code).join("·");
      const tip = group.venues.map((venue) => {
        const units = live.get(venue.code) || [];
        const crowd = crowds.get(venue.code);
        return `${venue.code} ${venue.name}${units.length ? `: ${units.length} live` : ""}` +
          `${crowd ? `, crowd level ${crowd.level}` : ""}`;
      }).join("\n");
      return s("g", { class: `venue${count ? " live" : ""}${alert ? " alert" : ""}`, dataset: { venues: group.venues.map((v) => v.code).join(" ") } },
        s("title", {}, tip),
        count ? s("circle", { class: "halo", cx: group.x, cy: group.y, r: 11 }) : null,
        s("circle", { class: `dot${level ? ` lv-${level}` : ""}`, cx: group.x, cy: group.y, r: group.venues.length > 1 ? 6.5 : 5 }),
        // labels near the right edge go to the left of their marker
        group.x > width - 80
          ? s("text", { class: "code", x: group.x - 9, y: group.y + 5, "text-anchor": "end" }, label)
          : s("text", { class: "code", x: group.x + 9, y: group.y + 5 }, label),
        count ? s("text", { class: "count", x: group.x, y: group.y - 12, "text-anchor": "middle" }, String(count)) : null,
        zoneSquares(group.venues, group.x, group.y),
      );
    }));

    function zoneSquares(venues, x, y) {
      const zones = venues.flatMap((venue) => zonesOf(crowds.get(venue.code))).slice(0, ZONES_SHOWN);
      if (!zones.length) return null;
      const left = x - (zones.length * 5) / 2;
      return s("g", { class: "zones" }, zones.map((zone, i) =>
        s("rect", { class: `zone lv-${zone.level}${zone.alert ? " alert" : ""}`, x: left + i * 5, y: y + 8, width: 4, height: 4,
                    dataset: { zone: zone.name } },
          s("title", {}, `${zone.name} (${zone.role}): level ${zone.level}${zone.alert ? ", alert" : ""}`))));
    }

    // Listed: venues with something live, and crowds worth a look (level C or worse, or an
    // alert). The quiet ones are only counted, so the list stays short during a full day.
    const notable = (code) => {
      const crowd = crowds.get(code);
      return live.has(code) || Boolean(crowd && (crowd.alert || "CDEF".includes(crowd.level || "A")));
    };
    const quiet = VENUES.filter((venue) => crowds.has(venue.code) && !notable(venue.code)).length;
    const rows = VENUES
      .filter((venue) => notable(venue.code))
      .sort((a, b) => (live.get(b.code)?.length || 0) - (live.get(a.code)?.length || 0) || a.code.localeCompare(b.code))
      .map((venue) => {
        const units = live.get(venue.code) || [];
        const crowd = crowds.get(venue.code);
        return h("li", { dataset: { venue: venue.code } },
          h("strong", {}, venue.code), " ", venue.name,
          crowd?.level ? h("span", { class: `lv lv-${crowd.level}`, title: `Crowd level ${crowd.level}` }, crowd.level) : null,
          crowd?.alert ? h("span", { class: "status s-down" }, "Crowd alert") : null,
          crowd?.occupancy !== undefined
            ? h("span", { class: "muted" }, ` ${formatCount(crowd.occupancy)}${crowd.capacity ? ` / ${formatCount(crowd.capacity)}` : ""} inside`)
            : null,
          zonesOf(crowd).length
            ? h("span", { class: "zone-levels" }, zonesOf(crowd).slice(0, ZONES_SHOWN).map((zone) =>
                h("span", { class: `lv lv-${zone.level}${zone.alert ? " alert" : ""}`, dataset: { zone: zone.name },
                            title: `${zone.name} (${zone.role}): level ${zone.level}` }, `${shortName(zone.name, venue.code)} ${zone.level}`)))
            : null,
          units.length
            ? h("ul", {}, units.slice(0, 4).map((unit) => h("li", {}, unit.title)),
                units.length > 4 ? h("li", {}, `and ${units.length - 4} more`) : null)
            : null);
      });
    replace(list,
      rows.length ? rows : h("li", { class: "empty" }, "Nothing live right now."),
      quiet ? h("li", { class: "muted" }, `${quiet} other venue${quiet === 1 ? "" : "s"} reporting crowds, all at level A or B.`) : null);
  }

  return render;
}
