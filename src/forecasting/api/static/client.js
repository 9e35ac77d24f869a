// Calls to the service with the API key kept in sessionStorage (this tab only, never the URL).
const KEY = "forecasting.apiKey";

export class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

export const keyRequired = () => document.body.dataset.keyRequired === "true";
export const hasKey = () => !!sessionStorage.getItem(KEY);
export const setKey = (key) => sessionStorage.setItem(KEY, key);
export const clearKey = () => sessionStorage.removeItem(KEY);

export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  const key = sessionStorage.getItem(KEY);
  if (key) headers["X-API-Key"] = key;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  let data = null;
  try { data = await res.json(); } catch { data = null; }
  if (!res.ok) {
    const msg = (data && (data.error || data.detail || JSON.stringify(data))) || res.statusText;
    throw new ApiError(res.status, `${path}: ${res.status} ${typeof msg === "string" ? msg : JSON.stringify(msg)}`);
  }
  return data;
}

export function text(tag, content, attrs = {}) {
  const node = document.createElement(tag);
  if (content !== undefined && content !== null) node.textContent = content;
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

export function csvDownload(filename, rows) {
  if (!rows.length) return;
  const cols = Object.keys(rows[0]);
  const esc = (v) => {
    const s = v === null || v === undefined ? "" : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const csv = [cols.join(","), ...rows.map((r) => cols.map((c) => esc(r[c])).join(","))].join("\n");
  const url = URL.createObjectURL(new Blob(["\ufeff" + csv], { type: "text/csv;charset=utf-8" }));
  const a = document.createElement("a");
  a.href = url; a.download = filename;
  document.body.appendChild(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Shows an error of a user action in the page's alert line (never only in the console). */
export function showError(err) {
  const el = document.querySelector("#status");
  if (el) el.textContent = err && err.message ? err.message : String(err);
}
