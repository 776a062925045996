// Small SVG charts for Insights results: a line chart of `stats ... by
// bin()` (one line per combination of the other by-keys and per numeric
// column) and a horizontal bar chart.
const NS = "http://www.w3.org/2000/svg";
const colors = ["#0972d3", "#d91515", "#037f0c", "#8d6605", "#7d3cb5", "#0f7b8a", "#c33d69", "#5f6b7a"];

function svg(tag, attrs = {}, text) {
  const n = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
  if (text !== undefined) n.textContent = text;
  return n;
}

// parseTime reads an Insights timestamp ("2026-01-02 03:04:00.000", UTC).
function parseTime(s) {
  const t = Date.parse(String(s).replace(" ", "T") + (/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? "" : "Z"));
  return Number.isNaN(t) ? null : t;
}

// chartSeries groups rows by the non-numeric columns other than bin: each
// group and numeric column is a series of [time, value] points.
export function chartSeries(cols, rows, bin) {
  const others = cols.filter((c) => c !== bin);
  const numeric = others.filter((c) => rows.every((r) => r[c] === undefined || !Number.isNaN(Number(r[c]))));
  const keys = others.filter((c) => !numeric.includes(c));
  const series = new Map();
  for (const r of rows) {
    const t = parseTime(r[bin]);
    if (t === null) continue;
    for (const c of numeric) {
      if (r[c] === undefined) continue;
      const name = [...keys.map((k) => r[k] ?? "-"), numeric.length > 1 || !keys.length ? c : null].filter((x) => x !== null).join(" ");
      if (!series.has(name)) series.set(name, []);
      series.get(name).push([t, Number(r[c])]);
    }
  }
  const out = [...series.entries()].map(([name, pts]) => ({ name, points: pts.sort((a, b) => a[0] - b[0]) }));
  out.sort((a, b) => b.points.reduce((s, p) => s + p[1], 0) - a.points.reduce((s, p) => s + p[1], 0));
  return out.slice(0, colors.length);
}

function niceMax(v) {
  if (v <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function short(v) {
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toFixed(1) + "G";
  if (a >= 1e6) return (v / 1e6).toFixed(1) + "M";
  if (a >= 1e3) return (v / 1e3).toFixed(1) + "k";
  return String(Math.round(v * 100) / 100);
}

function legend(series) {
  const d = document.createElement("div");
  d.className = "legend";
  series.forEach((s, i) => {
    const item = document.createElement("span");
    const sw = document.createElement("span");
    sw.className = "swatch";
    sw.style.background = colors[i % colors.length];
    item.append(sw, document.createTextNode(s.name));
    d.append(item);
  });
  return d;
}

// lineChart draws the series on a shared time axis.
export function lineChart(series) {
  const W = 760, H = 240, L = 56, R = 12, T = 10, B = 28;
  const wrap = document.createElement("div");
  if (!series.length) return wrap;
  const all = series.flatMap((s) => s.points);
  let x0 = Math.min(...all.map((p) => p[0])), x1 = Math.max(...all.map((p) => p[0]));
  if (x0 === x1) { x0 -= 60000; x1 += 60000; }
  const ymax = niceMax(Math.max(...all.map((p) => p[1])));
  const X = (t) => L + ((t - x0) / (x1 - x0)) * (W - L - R);
  const Y = (v) => T + (1 - v / ymax) * (H - T - B);
  const s = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", class: "chart", role: "img", "aria-label": "chart of " + series.map((x) => x.name).join(", ") });
  for (let i = 0; i <= 4; i++) {
    const v = (ymax * i) / 4;
    s.append(svg("line", { x1: L, x2: W - R, y1: Y(v), y2: Y(v), class: "grid" }), svg("text", { x: L - 6, y: Y(v) + 4, "text-anchor": "end" }, short(v)));
  }
  for (let i = 0; i <= 4; i++) {
    const t = x0 + ((x1 - x0) * i) / 4;
    // Minutes, or seconds too when the ticks are less than a minute apart.
    const label = new Date(t).toISOString().slice(11, (x1 - x0) / 4 < 60000 ? 19 : 16);
    s.append(svg("text", { x: X(t), y: H - 8, "text-anchor": i === 0 ? "start" : i === 4 ? "end" : "middle" }, label));
  }
  s.append(svg("line", { x1: L, x2: L, y1: T, y2: H - B, class: "axis" }), svg("line", { x1: L, x2: W - R, y1: H - B, y2: H - B, class: "axis" }));
  series.forEach((ser, i) => {
    const c = colors[i % colors.length];
    s.append(svg("polyline", { points: ser.points.map((p) => `${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join(" "), fill: "none", stroke: c, "stroke-width": "2" }));
    for (const p of ser.points) {
      const dot = svg("circle", { cx: X(p[0]).toFixed(1), cy: Y(p[1]).toFixed(1), r: "2.5", fill: c });
      dot.append(svg("title", {}, `${ser.name}: ${p[1]} at ${new Date(p[0]).toISOString()}`));
      s.append(dot);
    }
  });
  wrap.append(s, legend(series));
  return wrap;
}

// barChart draws labelled horizontal bars.
export function barChart(pairs, unit) {
  const W = 760, rowH = 22, L = 250, R = 70;
  const H = pairs.length * rowH + 8;
  const max = Math.max(...pairs.map((p) => p[1]), 1);
  const s = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", class: "chart", role: "img", "aria-label": "bar chart of " + unit });
  pairs.forEach(([label, v], i) => {
    const y = 4 + i * rowH;
    s.append(svg("text", { x: L - 6, y: y + 15, "text-anchor": "end" }, label));
    const bar = svg("rect", { x: L, y: y + 3, height: rowH - 6, width: Math.max(1, ((W - L - R) * v) / max), fill: colors[0], rx: "2" });
    bar.append(svg("title", {}, `${label}: ${v} ${unit}`));
    s.append(bar, svg("text", { x: L + ((W - L - R) * v) / max + 4, y: y + 15 }, short(v)));
  });
  return s;
}
