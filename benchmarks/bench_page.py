"""Benchmark: how long the web page takes to show its first view, in headless Chromium.

Starts `bentoml serve` on a free 127.0.0.1 port over the current snapshot and MLflow store (run
`forecasting demo --no-serve` first, or pass --demo to build the demo's data, models and
snapshot in a temporary folder), then opens the page in a fresh browser context per run (cold
cache, key already in the tab's session storage) and measures, from navigation start:

* first view: the planner's chart (history, forecast, 80/95 % bands) of the first product
  and its production plan row drawn;
* the other views, one click each: account manager (ranked list), manager (KPI charts and
  segments), models (champions, drift);
* baseline, same run: the same page with JavaScript disabled (HTML + CSS only: what the
  server and the browser cost before any of the page's own work), and one `GET /` over
  HTTP without a browser.

Target: the first view in under 1 s on the demo's data. Needs Debian's chromium
(`apt-get install chromium fonts-noto-cjk`) and playwright (`pip install -e '.[bench]'`).

    .venv/bin/python benchmarks/bench_page.py [--runs 10] [--demo]
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _server import free_port, start

log = logging.getLogger("bench_page")
KEY = "bench-page-key"
FIRST_VIEW = "#plan-table tbody td[data-field=recommended_quantity]"
VIEWS = {"accounts": "#customer-table tbody tr", "manager": "#segment-table tbody tr",
         "models": "#drift p"}


def _demo(work: Path, env: dict) -> None:
    log.info("building the demo's data, models and snapshot in %s (a few minutes)", work)
    r = subprocess.run([sys.executable, "-m", "forecasting", "demo", "--no-serve",
                        "--workdir", str(work / "demo")], env=env, cwd=work,
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"demo failed:\n{r.stderr[-3000:]}")


def _ms(values: list[float]) -> tuple[float, float, float]:
    v = sorted(values)
    return statistics.median(v), v[min(len(v) - 1, int(round(0.9 * (len(v) - 1))))], v[-1]


def _measure(browser, url: str, runs: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {k: [] for k in ("first view", "chart", *VIEWS,
                                                   "HTML + CSS only")}
    init = f"sessionStorage.setItem('forecasting.apiKey', {KEY!r})"
    for i in range(runs + 1):  # the first run warms the server's caches and is dropped
        ctx = browser.new_context(viewport={"width": 1366, "height": 900})
        ctx.add_init_script(init)
        page = ctx.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url, wait_until="commit")
        # in-page timestamps of when the chart's bands and the plan row appear
        page.evaluate("""() => new Promise(done => {
            const seen = {};
            const look = () => {
              const t = performance.now();
              if (!seen.chart && document.querySelector('#forecast-chart svg polygon')) seen.chart = t;
              if (!seen.first && document.querySelector('%s')) seen.first = t;
              if (seen.chart && seen.first) { window.__bench = seen; done(); }
              else requestAnimationFrame(look);
            };
            look();
        })""" % FIRST_VIEW)
        seen = page.evaluate("window.__bench")
        first = max(seen["chart"], seen["first"])
        views = {}
        for view, ready in VIEWS.items():
            t0 = page.evaluate("performance.now()")
            page.click(f"nav button[data-view={view}]")
            page.wait_for_selector(ready, timeout=30_000)
            views[view] = page.evaluate("performance.now()") - t0
        ctx.close()
        if errors:
            raise SystemExit(f"page errors: {errors}")
        bare = browser.new_context(java_script_enabled=False)
        p2 = bare.new_page()
        p2.goto(url, wait_until="load")
        html_css = p2.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
        bare.close()
        if i == 0:
            continue
        out["first view"].append(first)
        out["chart"].append(seen["chart"])
        for view, ms in views.items():
            out[view].append(ms)
        out["HTML + CSS only"].append(html_css)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=10, help="measured page loads (default 10)")
    ap.add_argument("--demo", action="store_true",
                    help="build the demo's data, models and snapshot in a temporary folder "
                         "first (else: the current snapshot and MLflow store)")
    ap.add_argument("--workdir", default=None,
                    help="keep the --demo build here and reuse it on the next run (default: a "
                         "temporary folder, removed at the end)")
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium",
                    help="the Chromium binary (Debian's chromium package)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from playwright.sync_api import sync_playwright

    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="bench_page_"))
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "FORECASTING_API_KEY": KEY, "OMP_NUM_THREADS": "1",
           "BENTOML_HOME": str(work / "bentoml")}
    if args.demo:
        env.update(MLFLOW_TRACKING_URI=f"sqlite:///{work / 'mlflow.db'}",
                   FORECASTING_MODELS_DIR=str(work / "models"))
        env.pop("FORECASTING_SNAPSHOT_DIR", None)
        if not (work / "models" / "serving" / "meta.json").exists():
            _demo(work, env)
    port = free_port()
    proc = start(port, work / "server.log", env)
    url = f"http://127.0.0.1:{port}/"
    try:
        t = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            httpx.get(url, timeout=10).raise_for_status()
            t.append(1000 * (time.perf_counter() - t0))
        session = httpx.get(url + "ui/api/session", headers={"X-API-Key": KEY}).json()
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium, headless=True,
                                         args=["--no-sandbox", "--disable-dev-shm-usage"])
            res = _measure(browser, url, args.runs)
            browser.close()
        res["GET / over HTTP (no browser)"] = t
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    print(f"\nWeb page load times, {args.runs} cold loads each, snapshot as of "
          f"{session['as_of']}: {session['customers']:,} customers, {session['products']} "
          f"products (Chromium {args.chromium}, 2 shared cores)\n")
    print(f"| {'what':<40} | {'median ms':>9} | {'p90 ms':>7} | {'max ms':>7} |")
    print(f"|{'-' * 42}|{'-' * 11}:|{'-' * 8}:|{'-' * 8}:|")
    for name, values in res.items():
        label = {"accounts": "account manager view (click to list)",
                 "manager": "manager view (click to charts)",
                 "models": "models view (click to cards)",
                 "chart": "  of which: chart with bands drawn",
                 "first view": "first view: planner chart + plan row"}.get(name, name)
        med, p90, mx = _ms(values)
        print(f"| {label:<40} | {med:>9.0f} | {p90:>7.0f} | {mx:>7.0f} |")
    med = _ms(res["first view"])[0]
    print(f"\nfirst view median {med:.0f} ms: target < 1000 ms "
          f"{'met' if med < 1000 else 'MISSED'}")
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
