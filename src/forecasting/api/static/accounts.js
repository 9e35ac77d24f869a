// Account manager view: customers ranked by value at risk, filters, one customer's page.
import { api, showError, text } from "./client.js";
import { fmt, lineChart } from "./chart.js";

const $ = (sel) => document.querySelector(sel);
const PAGE = 25;
let offset = 0, total = 0, asked = 0;
let wired = false; // event listeners are added once, even after a sign-out and sign-in

const NAMES = { segment: "Segment", risk_band: "Risk band", region: "Region", tier: "Tier", industry: "Industry" };
const title = (k) => NAMES[k] || k.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());

function badge(band) {
  return text("span", band || "–", { class: `badge ${band || "none"}` });
}

export async function showAccounts(state) {
  const form = $("#customer-filters");
  form.replaceChildren();
  const q = document.createElement("div");
  q.append(text("label", "Search", { for: "filter-q" }), text("input", null, { id: "filter-q", name: "q", type: "search", placeholder: "id or name" }));
  form.appendChild(q);
  for (const [key, values] of Object.entries(state.session.filters)) {
    const div = document.createElement("div");
    const sel = text("select", null, { id: `filter-${key}`, name: key });
    sel.appendChild(text("option", "All", { value: "" }));
    for (const v of values) sel.appendChild(text("option", v, { value: v }));
    div.append(text("label", title(key), { for: `filter-${key}` }), sel);
    form.appendChild(div);
  }
  offset = 0;
  if (wired) { await loadList(); return; }
  wired = true;
  const reload = () => { offset = 0; loadList().catch(showError); };
  form.addEventListener("change", reload);
  form.addEventListener("submit", (e) => { e.preventDefault(); reload(); });
  const typed = debounce(reload, 250);
  form.addEventListener("input", (e) => { if (e.target.name === "q") typed(); });
  $("#prev-page").addEventListener("click", () => { offset = Math.max(0, offset - PAGE); loadList().catch(showError); });
  $("#next-page").addEventListener("click", () => { if (offset + PAGE < total) { offset += PAGE; loadList().catch(showError); } });
  $("#back-to-list").addEventListener("click", () => {
    $("#customer-detail").hidden = true; $("#customer-list-panel").hidden = false;
  });
  await loadList();
}

function debounce(fn, ms) {
  let t = null;
  return () => { clearTimeout(t); t = setTimeout(fn, ms); };
}

async function loadList() {
  const params = new URLSearchParams();
  for (const el of $("#customer-filters").querySelectorAll("select, input")) {
    if (el.value) params.set(el.name, el.value);
  }
  params.set("limit", PAGE); params.set("offset", offset);
  const ticket = ++asked;
  const body = await api("GET", `/ui/api/customers?${params}`);
  if (ticket !== asked) return; // a newer filter was chosen meanwhile: its answer wins
  total = body.total;
  const tbody = $("#customer-table tbody");
  tbody.replaceChildren();
  for (const r of body.rows) {
    const tr = document.createElement("tr");
    tr.className = "link";
    tr.dataset.customerId = r.customer_id;
    const open = text("button", r.name ? `${r.name} (${r.customer_id})` : r.customer_id,
      { type: "button", class: "secondary", "aria-label": `Open customer ${r.customer_id}` });
    open.addEventListener("click", (e) => { e.stopPropagation(); openCustomer(r.customer_id).catch(showError); });
    const who = document.createElement("td");
    who.appendChild(open);
    const attrs = Object.keys(NAMES).filter((k) => !["segment", "risk_band"].includes(k) && r[k]).map((k) => r[k]);
    if (attrs.length) who.appendChild(text("div", attrs.join(" · "), { class: "muted" }));
    const reasons = document.createElement("td");
    const ul = document.createElement("ul");
    for (const why of r.reasons) ul.appendChild(text("li", why));
    reasons.appendChild(r.reasons.length ? ul : text("span", "–"));
    const band = document.createElement("td"); band.appendChild(badge(r.risk_band));
    tr.append(text("td", String(r.rank), { class: "num" }), who,
      text("td", fmt(r.value_at_risk_12m, 0), { class: "num" }),
      text("td", r.churn_probability === null ? "–" : `${(100 * r.churn_probability).toFixed(1)} %`, { class: "num" }),
      band, text("td", r.segment || "–", { "data-field": "segment" }), reasons);
    tr.addEventListener("click", () => openCustomer(r.customer_id).catch(showError));
    tbody.appendChild(tr);
  }
  const shown = body.rows.length ? `${offset + 1}–${offset + body.rows.length}` : "0";
  $("#customer-count").textContent = `${total.toLocaleString("en")} customers with value at risk match; showing ${shown}.`;
  $("#prev-page").disabled = offset === 0;
  $("#next-page").disabled = offset + PAGE >= total;
}

export async function openCustomer(cid) {
  const c = await api("GET", `/ui/api/customers/${encodeURIComponent(cid)}`);
  $("#customer-list-panel").hidden = true;
  $("#customer-detail").hidden = false;
  $("#customer-title").textContent = c.name ? `${c.name} (${c.customer_id})` : `Customer ${c.customer_id}`;
  const facts = $("#customer-facts");
  facts.replaceChildren();
  const add = (k, v) => facts.append(text("dt", k), typeof v === "string" || v === null ? text("dd", v ?? "–") : v);
  const dd = document.createElement("dd"); dd.appendChild(badge(c.risk_band));
  add("Churn probability", c.churn_probability === null ? "–" : `${(100 * c.churn_probability).toFixed(1)} % (${c.churn_source || "model"})`);
  add("Risk band", dd);
  add("Segment", c.segment);
  add("Lifecycle stage", c.lifecycle_stage);
  add("Revenue to date", fmt(c.revenue_to_date, 0));
  add("Value at risk (12 m)", fmt(c.value_at_risk_12m, 0));
  for (const [k, v] of Object.entries(c.attributes)) add(title(k), v === null ? "–" : String(v));
  const ul = $("#customer-reasons");
  ul.replaceChildren();
  for (const why of c.reasons) ul.appendChild(text("li", why));
  if (!c.reasons.length) ul.appendChild(text("li", "No reasons recorded for this customer."));
  $("#customer-action").textContent = c.suggested_action || "No follow-up suggested.";
  drawOrders(c);
  drawScores(c);
  drawSurveys(c);
  const tbody = $("#complaint-table tbody");
  tbody.replaceChildren();
  for (const r of c.complaints) {
    const tr = document.createElement("tr");
    tr.append(text("td", r.date), text("td", r.category), text("td", r.severity || "–"),
      text("td", r.resolution_days === null ? "open" : fmt(r.resolution_days), { class: "num" }));
    tbody.appendChild(tr);
  }
  if (!c.complaints.length) {
    const tr = document.createElement("tr");
    tr.appendChild(text("td", "No complaints in the last 24 months.", { colspan: "4" }));
    tbody.appendChild(tr);
  }
  $("#customer-title").focus?.();
}

function drawOrders(c) {
  const box = $("#orders-chart");
  if (!c.orders.length) { box.textContent = "No orders in the last 24 months."; return; }
  lineChart(box, {
    title: `Orders per month of ${c.customer_id}`, height: 200, dots: true,
    x: c.orders.map((r) => r.date), xFmt: (v) => v.slice(0, 7),
    series: [{ name: "Revenue", values: c.orders.map((r) => r.revenue) }],
  });
}

function drawScores(c) {
  const box = $("#score-chart");
  const h = c.score_history;
  $("#score-note").textContent = h.length <= 1
    ? "Only the current score: the score history grows with each refresh." : `${h.length} refreshes.`;
  if (!h.length) { box.textContent = "Not scored."; return; }
  lineChart(box, {
    title: `Churn probability of ${c.customer_id} across refreshes`, height: 180, dots: true,
    x: h.map((r) => r.as_of), xFmt: (v) => String(v).slice(0, 10), yMin: 0, yMax: 1,
    series: [{ name: "Churn probability", values: h.map((r) => r.churn_probability) }],
  });
}

function drawSurveys(c) {
  const box = $("#survey-chart");
  const s = c.surveys;
  $("#survey-note").textContent = s.length ? `${s.length} surveys; last CSAT ${fmt(s[s.length - 1].csat)}.` : "";
  if (!s.length) { box.textContent = "No surveys in the last 24 months."; return; }
  lineChart(box, {
    title: `Satisfaction (CSAT, 1–5) of ${c.customer_id}`, height: 180, dots: true, yMin: 0, yMax: 5,
    x: s.map((r) => r.date), xFmt: (v) => v.slice(0, 10),
    series: [{ name: "CSAT", values: s.map((r) => r.csat), cls: "s2" }],
  });
}
