// Small SVG charts written for this page (no library): time lines with interval bands, bars.
// Every chart is an <svg role="img"> with a <title> and a <desc>, so a screen reader and a
// test see what a person sees; series carry data-series, bands data-band.

const NS = "http://www.w3.org/2000/svg";
const PAD = { top: 12, right: 16, bottom: 30, left: 56 };

function el(name, attrs = {}, parent = null) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

export function fmt(v, digits = 1) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  const a = Math.abs(v);
  if (a >= 1e6) return (v / 1e6).toFixed(1) + " M";
  if (a >= 1e4) return (v / 1e3).toFixed(1) + " k";
  return Number(v).toLocaleString("en", { maximumFractionDigits: digits });
}

function niceTicks(lo, hi, n = 5) {
  if (!(hi > lo)) { hi = lo + 1; }
  const raw = (hi - lo) / n;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
  const out = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9; t += step) out.push(+t.toFixed(10));
  return out;
}

function frame(container, title, desc, height) {
  container.replaceChildren();
  const width = Math.max(container.clientWidth || 600, 280);
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, width: "100%", height,
    role: "img", class: "chart" }, container);
  el("title", {}, svg).textContent = title;
  el("desc", {}, svg).textContent = desc;
  return { svg, width, height };
}

function axes(svg, x, y, width, height, xs, yTicks, xFmt) {
  const g = el("g", { class: "axes" }, svg);
  for (const t of yTicks) {
    el("line", { x1: PAD.left, x2: width - PAD.right, y1: y(t), y2: y(t), class: "grid" }, g);
    const lab = el("text", { x: PAD.left - 6, y: y(t) + 4, "text-anchor": "end" }, g);
    lab.textContent = fmt(t);
  }
  const every = Math.max(1, Math.ceil(xs.length / Math.max(2, Math.floor((width - 80) / 70))));
  xs.forEach((v, i) => {
    if (i % every !== 0) return;
    const edge = x(i) > width - PAD.right - 30 ? "end" : "middle"; // keep the last label inside
    const lab = el("text", { x: x(i), y: height - 8, "text-anchor": edge }, g);
    lab.textContent = xFmt(v);
  });
}

/**
 * Time line chart. spec = {title, x: [labels], series: [{name, values, cls}],
 * bands: [{name, lo, hi, cls}], height}. Values may be null (gap).
 */
export function lineChart(container, spec) {
  const height = spec.height || 260;
  const { svg, width } = frame(container, spec.title, spec.desc || spec.title, height);
  const xs = spec.x;
  const all = [];
  for (const s of spec.series) all.push(...s.values.filter((v) => v !== null && v !== undefined));
  for (const b of spec.bands || []) {
    all.push(...b.lo.filter((v) => v !== null), ...b.hi.filter((v) => v !== null));
  }
  let lo = Math.min(0, ...all), hi = Math.max(...all, 1e-9);
  if (spec.yMin !== undefined) lo = spec.yMin;
  if (spec.yMax !== undefined) hi = Math.max(spec.yMax, hi);
  const yTicks = niceTicks(lo, hi);
  lo = Math.min(lo, yTicks[0]); hi = Math.max(hi, yTicks[yTicks.length - 1]);
  const x = (i) => PAD.left + (xs.length <= 1 ? 0.5 : i / (xs.length - 1)) * (width - PAD.left - PAD.right);
  const y = (v) => height - PAD.bottom - ((v - lo) / (hi - lo || 1)) * (height - PAD.top - PAD.bottom);
  axes(svg, x, y, width, height, xs, yTicks, spec.xFmt || ((v) => String(v).slice(0, 7)));
  for (const b of spec.bands || []) {
    const idx = b.lo.map((v, i) => (v === null || b.hi[i] === null ? -1 : i)).filter((i) => i >= 0);
    if (!idx.length) continue;
    const top = idx.map((i) => `${x(i)},${y(b.hi[i])}`);
    const bottom = idx.slice().reverse().map((i) => `${x(i)},${y(b.lo[i])}`);
    const poly = el("polygon", { points: top.concat(bottom).join(" "), class: `band ${b.cls || ""}`,
      "data-band": b.name }, svg);
    el("title", {}, poly).textContent = b.name;
  }
  for (const s of spec.series) {
    let d = "", pen = false;
    s.values.forEach((v, i) => {
      if (v === null || v === undefined) { pen = false; return; }
      d += `${pen ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    });
    const path = el("path", { d, class: `line ${s.cls || ""}`, "data-series": s.name }, svg);
    el("title", {}, path).textContent = s.name;
    const single = s.values.filter((v) => v !== null && v !== undefined).length === 1;
    if (single || spec.dots) {
      s.values.forEach((v, i) => {
        if (v === null || v === undefined) return;
        el("circle", { cx: x(i), cy: y(v), r: 3, class: `dot ${s.cls || ""}` }, svg);
      });
    }
  }
  legend(container, [...spec.series.map((s) => ({ name: s.name, cls: `line ${s.cls || ""}` })),
    ...(spec.bands || []).map((b) => ({ name: b.name, cls: `band ${b.cls || ""}` }))]);
  return svg;
}

function legend(container, items) {
  const ul = document.createElement("ul");
  ul.className = "legend";
  for (const it of items) {
    const li = document.createElement("li");
    const sw = document.createElement("span");
    sw.className = `swatch ${it.cls}`;
    li.append(sw, document.createTextNode(it.name));
    ul.appendChild(li);
  }
  container.appendChild(ul);
}

/** Horizontal bars: spec = {title, rows: [{label, value, text}], height per row}. */
export function barChart(container, spec) {
  const rowH = 26;
  const height = PAD.top + rowH * spec.rows.length + 8;
  const { svg, width } = frame(container, spec.title, spec.desc || spec.title, height);
  const left = 130;
  const max = Math.max(...spec.rows.map((r) => r.value), 1e-9);
  spec.rows.forEach((r, i) => {
    const yy = PAD.top + i * rowH;
    const lab = el("text", { x: left - 8, y: yy + 16, "text-anchor": "end" }, svg);
    lab.textContent = r.label;
    const w = Math.max(1, (r.value / max) * (width - left - 170));
    el("rect", { x: left, y: yy + 3, width: w, height: rowH - 8, class: "bar",
      "data-label": r.label }, svg);
    const val = el("text", { x: left + w + 6, y: yy + 16 }, svg);
    val.textContent = r.text ?? fmt(r.value);
  });
  return svg;
}
