// Planner view: find a product, its history and forecast with 80/95 % bands, the plan.
import { api, csvDownload, showError, text } from "./client.js";
import { fmt, lineChart } from "./chart.js";

const $ = (sel) => document.querySelector(sel);
let products = [];
let current = { pid: null, history: [], points: [], plan: null, levels: [80, 95] };
let wired = false; // event listeners are added once, even after a sign-out and sign-in
let asked = 0, planAsked = 0; // answers to older requests are dropped: the newest one wins

const PLAN_COLUMNS = [
  ["product_id", "Product"], ["on_hand", "On hand"], ["lead_time_periods", "Lead time (periods)"],
  ["lead_time_demand", "Lead-time demand"], ["lead_time_demand_at_service_level", "Demand at service level"],
  ["safety_stock", "Safety stock"], ["recommended_quantity", "Quantity to make"],
  ["stockout_date", "Stock-out date"], ["service_level", "Service level"], ["note", "Note"],
];

function label(p) {
  const extra = [p.name, p.category].filter(Boolean).join(" · ");
  return extra ? `${p.product_id} — ${extra}` : p.product_id;
}

function fillSelect(filter) {
  const q = (filter || "").trim().toLowerCase();
  const sel = $("#product-select");
  sel.replaceChildren();
  for (const p of products) {
    const l = label(p);
    if (q && !l.toLowerCase().includes(q)) continue;
    const o = text("option", l, { value: p.product_id });
    if (p.product_id === current.pid) o.selected = true;
    sel.appendChild(o);
  }
}

export async function showPlanner(state) {
  const body = await (state.products || api("GET", "/ui/api/products"));
  products = body.rows;
  const spec = state.session.forecast;
  if (!spec) {
    $("#forecast-note").textContent = state.session.notes.demand || "No forecasts in this snapshot.";
  }
  current.spec = spec;
  fillSelect("");
  if (!wired) wire();
  if (products.length && spec) await selectProduct(current.pid || products[0].product_id);
}

function wire() {
  wired = true;
  $("#product-search").addEventListener("input", (e) => fillSelect(e.target.value));
  $("#product-select").addEventListener("change", (e) => selectProduct(e.target.value).catch(showError));
  $("#plan-form").addEventListener("submit", (e) => { e.preventDefault(); updatePlan().catch(showError); });
  $("#service-level").addEventListener("change", () => updatePlan().catch(showError));
  $("#csv-download").addEventListener("click", downloadCsv);
}

async function selectProduct(pid) {
  if (!pid) return;
  current.pid = pid;
  const p = products.find((x) => x.product_id === pid) || { product_id: pid };
  $("#product-title").textContent = label(p);
  const spec = current.spec;
  const levels = (spec.levels || [80, 95]).filter((l) => l === 80 || l === 95);
  current.levels = levels.length ? levels : spec.levels;
  const ticket = ++asked;
  const plan = updatePlan(); // the plan needs no forecast from the page: asked at the same time
  plan.catch(() => {}); // reported once, where it is awaited below
  const [hist, fc] = await Promise.all([
    api("GET", `/ui/api/products/${encodeURIComponent(pid)}/history`),
    api("POST", "/demand/forecast", { product_ids: [pid], horizon: spec.horizon, freq: spec.freq, levels: current.levels }),
  ]);
  if (ticket !== asked) return;
  current.history = hist.points;
  current.points = fc.points;
  drawForecast(p);
  await plan;
}

function drawForecast(p) {
  const h = current.history, f = current.points;
  const x = [...h.map((r) => r.ds), ...f.map((r) => r.ds)];
  const n = h.length;
  const pad = (arr, before) => [...Array(before).fill(null), ...arr];
  const last = n ? h[n - 1].y : null;
  const histVals = [...h.map((r) => r.y), ...Array(f.length).fill(null)];
  const fcVals = pad(f.map((r) => r.yhat), n);
  if (n) fcVals[n - 1] = last; // the forecast line starts where history ends
  const bands = [...current.levels].sort((a, b) => b - a).map((lv) => ({
    name: `${lv} % interval`, cls: `band${lv}`,
    lo: pad(f.map((r) => r.lo[String(lv)]), n), hi: pad(f.map((r) => r.hi[String(lv)]), n),
  }));
  lineChart($("#forecast-chart"), {
    title: `Demand of ${p.product_id}: history and forecast`,
    desc: `${n} periods of history and ${f.length} forecast periods with ${current.levels.join(" and ")} % prediction intervals`,
    x, series: [{ name: "History", values: histVals, cls: "history" }, { name: "Forecast", values: fcVals, cls: "forecast" }],
    bands, xFmt: (v) => v.slice(0, 10),
  });
  $("#forecast-note").textContent = f.length
    ? `Next period: ${fmt(f[0].yhat)} (80 %: ${fmt(f[0].lo["80"])}–${fmt(f[0].hi["80"])}). Frequency ${current.spec.freq}.`
    : "No forecast for this product.";
}

function inventoryRow() {
  const num = (id) => { const v = parseFloat($(id).value); return Number.isFinite(v) ? v : 0; };
  return { product_id: current.pid, on_hand: num("#on-hand"), lead_time_days: num("#lead-time"), min_batch: num("#min-batch") };
}

async function updatePlan() {
  if (!current.pid) return;
  let sl = parseFloat($("#service-level").value);
  if (!Number.isFinite(sl)) sl = 0.95;
  sl = Math.min(0.999, Math.max(0.5, sl));
  $("#service-level").value = sl;
  $("#plan-note").textContent = "";
  const ticket = ++planAsked;
  const res = await api("POST", "/production/plan", { inventory: [inventoryRow()], service_level: sl });
  if (ticket !== planAsked) return;
  current.plan = res.rows[0] || null;
  const thead = $("#plan-table thead"), tbody = $("#plan-table tbody");
  thead.replaceChildren(); tbody.replaceChildren();
  const hr = document.createElement("tr");
  for (const [, name] of PLAN_COLUMNS) hr.appendChild(text("th", name, { scope: "col" }));
  thead.appendChild(hr);
  if (!current.plan) { $("#plan-note").textContent = Object.values(res.errors).join("; "); return; }
  const tr = document.createElement("tr");
  for (const [key] of PLAN_COLUMNS) {
    const v = current.plan[key];
    const shown = typeof v === "number" ? fmt(v, 2) : (v ? String(v).slice(0, key === "note" ? 200 : 10) : "–");
    const td = text("td", shown, { "data-field": key, "data-value": v === null || v === undefined ? "" : String(v) });
    if (typeof v === "number") td.className = "num";
    tr.appendChild(td);
  }
  tbody.appendChild(tr);
}

function downloadCsv() {
  const plan = current.plan || {};
  const rows = [
    ...current.history.map((r) => ({ product_id: current.pid, ds: r.ds, kind: "history", y: r.y })),
    ...current.points.map((r) => {
      const row = { product_id: current.pid, ds: r.ds, kind: "forecast", yhat: r.yhat };
      for (const lv of current.levels) { row[`yhat_lo_${lv}`] = r.lo[String(lv)]; row[`yhat_hi_${lv}`] = r.hi[String(lv)]; }
      return row;
    }),
  ];
  const cols = ["product_id", "ds", "kind", "y", "yhat", ...current.levels.flatMap((lv) => [`yhat_lo_${lv}`, `yhat_hi_${lv}`]),
    "plan_service_level", "plan_on_hand", "plan_safety_stock", "plan_recommended_quantity", "plan_stockout_date"];
  const out = rows.map((r) => Object.fromEntries(cols.map((c) => [c, c.startsWith("plan_") ? plan[c.slice(5)] : r[c]])));
  csvDownload(`forecast_plan_${current.pid}.csv`, out);
}
