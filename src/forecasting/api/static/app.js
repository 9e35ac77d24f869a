// The page: sign-in, the four views and the calls they make. Plain ES module, no build step.
import { api, ApiError, clearKey, hasKey, keyRequired, setKey } from "./client.js";
import { showAccounts, openCustomer } from "./accounts.js";
import { showManager, showModels } from "./manager.js";
import { showPlanner } from "./planner.js";

const $ = (sel) => document.querySelector(sel);
const views = { planner: showPlanner, accounts: showAccounts, manager: showManager, models: showModels };
const loaded = new Set();
export const state = { session: null };

function setStatus(msg) { $("#status").textContent = msg || ""; }

export function report(err) {
  if (err instanceof ApiError && err.status === 401) { signOut("The API key was not accepted; sign in again."); return; }
  setStatus(err && err.message ? err.message : String(err));
}

async function show(name) {
  for (const b of document.querySelectorAll("#tabs button[data-view]")) {
    if (b.dataset.view === name) b.setAttribute("aria-current", "page");
    else b.removeAttribute("aria-current");
  }
  for (const v of document.querySelectorAll(".view")) v.hidden = v.id !== `view-${name}`;
  setStatus("");
  if (history.replaceState) history.replaceState(null, "", `#${name}`);
  if (!loaded.has(name)) {
    loaded.add(name);
    try { await views[name](state); } catch (err) { loaded.delete(name); report(err); }
  }
}

function signOut(message) {
  clearKey();
  loaded.clear();
  $("#tabs").hidden = true;
  for (const v of document.querySelectorAll(".view")) v.hidden = true;
  $("#signin").hidden = false;
  $("#signin-error").textContent = message || "";
  $("#api-key").focus();
}

async function start() {
  // the first view's product list is asked for together with the session
  const products = api("GET", "/ui/api/products");
  products.catch(() => {}); // its error, if any, is reported by the view that awaits it
  const session = await api("GET", "/ui/api/session");
  state.products = products;
  state.session = session;
  const s = session;
  $("#snapshot").textContent = `Snapshot as of ${s.as_of} · ${s.customers.toLocaleString("en")} customers · `
    + `${s.products} products · churn model ${s.churn_model_version ?? "none"} · demand model ${s.demand_model_version ?? "none"}`;
  $("#signin").hidden = true;
  $("#tabs").hidden = false;
  const wanted = (location.hash || "").replace("#", "");
  await show(views[wanted] ? wanted : "planner");
}

async function signIn(ev) {
  ev.preventDefault();
  const key = $("#api-key").value.trim();
  $("#signin-error").textContent = "";
  setKey(key);
  try {
    await start();
  } catch (err) {
    clearKey();
    if (err instanceof ApiError && err.status === 401) {
      $("#signin-error").textContent = "Sign-in failed: the API key was not accepted (401). Check the key and try again.";
    } else {
      $("#signin-error").textContent = `Sign-in failed: ${err.message}`;
    }
    $("#api-key").select();
  }
}

function init() {
  $("#signin-form").addEventListener("submit", signIn);
  for (const b of document.querySelectorAll("#tabs button[data-view]")) {
    b.addEventListener("click", () => show(b.dataset.view));
  }
  $("#signout").addEventListener("click", () => signOut(""));
  document.addEventListener("open-customer", (ev) => openCustomer(ev.detail).catch(report));
  if (keyRequired() && !hasKey()) { signOut(""); return; }
  start().catch((err) => {
    if (err instanceof ApiError && err.status === 401) signOut("The stored API key was not accepted; sign in again.");
    else report(err);
  });
}

init();
