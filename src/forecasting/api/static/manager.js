// Manager view (KPIs by month, segments) and Models view (champions, metrics, drift).
import { api, text } from "./client.js";
import { barChart, fmt, lineChart } from "./chart.js";

const $ = (sel) => document.querySelector(sel);

const KPIS = [
  { title: "Order fulfilment (on time, %)", kpis: ["order_fulfilment_rate_pct"] },
  { title: "Retention rate (%)", kpis: ["retention_rate_pct"] },
  { title: "Repurchase rate (%)", kpis: ["repurchase_rate_pct"] },
  { title: "Churn rate (%)", kpis: ["churn_rate_pct"] },
  { title: "NPS (−100 to 100)", kpis: ["nps"] },
  { title: "CSAT (1–5)", kpis: ["csat_mean"] },
  { title: "Complaints per 100 orders, by category", prefix: "complaint_rate_per_100_orders_" },
  { title: "Complaint resolution time (days)", kpis: ["resolution_days_mean", "resolution_days_p90"] },
];
const LABELS = { resolution_days_mean: "mean", resolution_days_p90: "90th percentile" };

export async function showManager(state) {
  const periods = state.session.periods || [];
  const grid = $("#kpi-grid");
  grid.replaceChildren();
  const [kpis, segs] = await Promise.all([
    periods.length ? api("POST", "/customers/kpis", { periods: periods.slice(-240), scope: "overall" }) : { rows: [] },
    api("GET", "/ui/api/segments"),
  ]);
  const byKpi = new Map();
  for (const r of kpis.rows) {
    if (!byKpi.has(r.kpi)) byKpi.set(r.kpi, new Map());
    byKpi.get(r.kpi).set(r.period, r.value);
  }
  const months = [...new Set(kpis.rows.map((r) => r.period))].sort();
  for (const spec of KPIS) {
    const names = spec.prefix ? [...byKpi.keys()].filter((k) => k.startsWith(spec.prefix)).sort() : spec.kpis.filter((k) => byKpi.has(k));
    const card = text("div", null, { class: "card kpi", "data-kpi": spec.title });
    const h = text("h3", spec.title);
    const box = text("div", null, { class: "chart-box" });
    card.append(h, box);
    grid.appendChild(card);
    if (!names.length) { box.textContent = "No data for this KPI."; continue; }
    lineChart(box, {
      title: spec.title, height: 190, x: months, xFmt: (v) => v,
      series: names.map((k, i) => ({
        name: spec.prefix ? k.slice(spec.prefix.length) : (LABELS[k] || spec.title),
        values: months.map((m) => { const v = byKpi.get(k).get(m); return v === undefined ? null : v; }),
        cls: names.length > 1 ? `s${i + 1}` : "",
      })),
    });
  }
  const rows = segs.rows;
  barChart($("#segment-chart"), {
    title: "Customers per segment",
    rows: rows.map((r) => ({ label: r.segment, value: r.customers, text: `${r.customers} (${fmt(r.revenue_share_pct)} % of revenue)` })),
  });
  const tbody = $("#segment-table tbody");
  tbody.replaceChildren();
  for (const r of rows) {
    const tr = document.createElement("tr");
    tr.append(text("td", r.segment), text("td", String(r.customers), { class: "num" }),
      text("td", fmt(r.revenue, 0), { class: "num" }), text("td", `${fmt(r.revenue_share_pct)} %`, { class: "num" }),
      text("td", fmt(r.value_at_risk, 0), { class: "num" }));
    tbody.appendChild(tr);
  }
}

function metricRows(metrics) {
  const out = [];
  for (const [k, v] of Object.entries(metrics).sort()) {
    if (/_(lo|hi)95$/.test(k)) continue;
    const lo = metrics[`${k}_lo95`], hi = metrics[`${k}_hi95`];
    out.push({ name: k, value: v, interval: lo !== undefined && hi !== undefined ? `${fmt(lo, 3)} – ${fmt(hi, 3)}` : "" });
  }
  return out;
}

export async function showModels() {
  const [info, mon] = await Promise.all([api("POST", "/models/info", {}), api("GET", "/ui/api/monitor")]);
  const cards = $("#model-cards");
  cards.replaceChildren();
  for (const m of info.models) {
    const card = text("div", null, { class: "card", "data-model": m.name });
    card.appendChild(text("h3", `${m.name}: ${m.version ? `champion version ${m.version}` : "no champion"}`));
    if (m.note) card.appendChild(text("p", m.note, { class: "muted" }));
    if (m.trained_at) card.appendChild(text("p", `Trained ${m.trained_at.slice(0, 19).replace("T", " ")} · run ${m.run_id || "–"} · ${m.loaded ? "loaded" : "not loaded"}`));
    const rows = metricRows(m.metrics || {}).filter((r) => /^(holdout|backtest|cv)_/.test(r.name));
    if (rows.length) {
      const wrap = text("div", null, { class: "table-wrap" });
      const table = document.createElement("table");
      table.appendChild(text("caption", `${m.name} metrics (95 % bootstrap interval where measured)`));
      const head = document.createElement("tr");
      for (const c of ["Metric", "Value", "95 % interval"]) head.appendChild(text("th", c, { scope: "col" }));
      table.appendChild(document.createElement("thead")).appendChild(head);
      const tb = table.appendChild(document.createElement("tbody"));
      for (const r of rows) {
        const tr = document.createElement("tr");
        tr.append(text("td", r.name), text("td", fmt(r.value, 4), { class: "num" }), text("td", r.interval || "–"));
        tb.appendChild(tr);
      }
      wrap.appendChild(table);
      card.appendChild(wrap);
    }
    cards.appendChild(card);
  }
  const drift = $("#drift");
  drift.replaceChildren();
  if (!mon.report) { drift.appendChild(text("p", "No monitoring report yet (run 'forecasting monitor DATA_DIR').")); return; }
  drift.appendChild(text("p", `Report ${mon.file}`, { class: "muted" }));
  if (mon.error) { drift.appendChild(text("p", mon.error, { class: "error" })); return; }
  const dl = document.createElement("dl");
  for (const [k, v] of Object.entries(mon.report)) {
    if (v !== null && typeof v === "object") continue;
    dl.append(text("dt", k), text("dd", String(v)));
  }
  drift.appendChild(dl);
  const pre = text("pre", JSON.stringify(mon.report, null, 2).slice(0, 4000));
  const det = document.createElement("details");
  det.append(text("summary", "Whole report"), pre);
  drift.appendChild(det);
}
