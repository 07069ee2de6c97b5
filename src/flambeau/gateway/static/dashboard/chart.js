// The throughput and latency chart: hand-written SVG, two panels sharing one time axis.
//
// Why SVG by hand: the chart holds at most 300 samples per series (one every 2 s for 10
// minutes) and redraws once per sample, so a chart library would add a dependency (and a
// download or a vendored build) for a few dozen lines of path arithmetic. SVG stays sharp at
// any size, is styled by the page's CSS, and carries a text description for screen readers.
// Two panels instead of one with two y-axes: events/s and milliseconds share no scale, and a
// dual-axis chart invites reading a crossing of the lines as meaningful.

import { formatMs, formatRate, s } from "./dom.js";
import { SERIES_SPAN_MS } from "./health.js";

// The plot geometry every dashboard chart shares (analytics-chart.js too): the SVG's width and
// the margins left for the y-axis labels and on the right.
export const WIDTH = 600;
export const LEFT = 56;
export const RIGHT = 10;
const PANELS = {
  eps: { top: 20, bottom: 130, label: "events/s appended" },
  latency: { top: 168, bottom: 276, label: "p99 latency, ms" },
};

/** 1, 2 or 5 times a power of ten, at least `value` (and at least `floor`). */
export function niceCeiling(value, floor = 1) {
  const target = Math.max(value, floor);
  const power = 10 ** Math.floor(Math.log10(target));
  for (const step of [1, 2, 5, 10]) {
    if (step * power >= target) return step * power;
  }
  return 10 * power;
}

function linePath(points) {
  let d = "";
  let open = false;
  for (const point of points) {
    if (point === null) {
      open = false;
      continue;
    }
    d += `${open ? "L" : "M"}${point[0].toFixed(1)},${point[1].toFixed(1)}`;
    open = true;
  }
  return d;
}

export function createChartView({ svg, desc }, { health }) {
  const layer = s("g");
  svg.append(layer);
  return function render() {
    const now = Date.now();
    const start = now - SERIES_SPAN_MS;
    const x = (t) => LEFT + ((t - start) / SERIES_SPAN_MS) * (WIDTH - LEFT - RIGHT);
    const series = health.series;
    const epsMax = niceCeiling(Math.max(0, ...series.map((p) => p.eps || 0)), 10);
    const msMax = niceCeiling(Math.max(0, ...series.flatMap((p) => [p.p99 || 0, p.pageP99 || 0])), 1);
    const y = (panel, value, max) => PANELS[panel].bottom - (value / max) * (PANELS[panel].bottom - PANELS[panel].top);
    const pointsOf = (key, panel, max) => series.map((p) => (p[key] === null || p[key] === undefined ? null : [x(p.t), y(panel, p[key], max)]));

    const parts = [];
    for (const [panel, max] of [["eps", epsMax], ["latency", msMax]]) {
      const { top, bottom, label } = PANELS[panel];
      for (const fraction of [0, 0.5, 1]) {
        const yy = bottom - fraction * (bottom - top);
        parts.push(s("line", { class: "grid", x1: LEFT, x2: WIDTH - RIGHT, y1: yy, y2: yy }));
        parts.push(s("text", { class: "tick", x: LEFT - 6, y: yy + 4, "text-anchor": "end" }, formatRate(max * fraction)));
      }
      parts.push(s("text", { class: "axis-label", x: LEFT, y: top - 8 }, label));
    }
    for (let minute = 0; minute <= 10; minute += 2) {
      const xx = x(now - minute * 60_000);
      parts.push(s("line", { class: "grid v", x1: xx, x2: xx, y1: PANELS.eps.top, y2: PANELS.latency.bottom }));
      parts.push(s("text", { class: "tick", x: xx, y: 296, "text-anchor": "middle" }, minute ? `−${minute} min` : "now"));
    }
    const eps = pointsOf("eps", "eps", epsMax);
    const epsLine = linePath(eps);
    const defined = eps.filter(Boolean);
    if (defined.length > 1) {
      const area = `${epsLine}L${defined[defined.length - 1][0].toFixed(1)},${PANELS.eps.bottom}L${defined[0][0].toFixed(1)},${PANELS.eps.bottom}Z`;
      parts.push(s("path", { class: "area eps", d: area }));
    }
    parts.push(s("path", { class: "line eps", d: epsLine }));
    parts.push(s("path", { class: "line p99", d: linePath(pointsOf("p99", "latency", msMax)) }));
    parts.push(s("path", { class: "line page", d: linePath(pointsOf("pageP99", "latency", msMax)) }));
    layer.replaceChildren(...parts);

    const last = series[series.length - 1];
    desc.textContent = last
      ? `${series.length} samples over the last ${Math.round((now - series[0].t) / 60_000) || "<1"} min. ` +
        `Now ${formatRate(last.eps)} events/s appended, p99 delivery ${formatMs(last.p99)}, ` +
        `p99 ingest to this page ${formatMs(last.pageP99)}. Peak ${formatRate(Math.max(...series.map((p) => p.eps || 0)))} events/s.`
      : "No samples yet.";
  };
}
