"""``forecasting demo``: everything end to end on the bundled sample data, then the API.

Each step runs the same command a user would type (``forecasting.cli.main``), so the demo
shows and exercises the real interface; the files it writes go under ``--workdir``.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from forecasting.cli import add_command
from forecasting.errors import ForecastingError

log = logging.getLogger("forecasting.cli.demo")

CURL = """\
Open the web page: http://{host}:{port}/  (planner, account manager, manager, models;
  with FORECASTING_API_KEY set, sign in with that key)
Try the API (another terminal):
  curl -s -X POST http://{host}:{port}/churn/score -H 'Content-Type: application/json' \\
       -d '{{"customer_ids": ["{cid}", "{cid2}"]}}'
  curl -s -X POST http://{host}:{port}/demand/forecast -H 'Content-Type: application/json' \\
       -d '{{"product_ids": ["{pid}"], "horizon": 4, "levels": [80, 95]}}'
  curl -s -X POST http://{host}:{port}/production/plan -H 'Content-Type: application/json' \\
       -d '{{"inventory": [{{"product_id": "{pid}", "on_hand": 0, "lead_time_days": 14, "min_batch": 50}}], "service_level": 0.95}}'
  curl -s -X POST http://{host}:{port}/customers/segments -H 'Content-Type: application/json' \\
       -d '{{"customer_ids": ["{cid}"]}}'
  curl -s -X POST http://{host}:{port}/customers/kpis -H 'Content-Type: application/json' \\
       -d '{{"periods": ["{period}"], "scope": "overall"}}'
  curl -s -X POST http://{host}:{port}/models/info -H 'Content-Type: application/json' -d '{{}}'
  curl -s http://{host}:{port}/readyz ; curl -s http://{host}:{port}/docs.json | head -c 300
"""


def register(commands, train, promote) -> None:
    p = add_command(
        commands, "demo", help="run everything end to end on sample data, then serve",
        description="Generate the seeded sample data set, validate it, build customer features, "
                    "train and promote the churn and demand models (MLflow under ./models), "
                    "score churn, compute segments, KPIs, the follow-up list and a production "
                    "plan as of the data's last day, then serve the API on 127.0.0.1 and print "
                    "example curl calls. Files go under --workdir.")
    p.add_argument("--workdir", default="demo", help="folder for the demo's data and outputs")
    p.add_argument("--customers", type=int, default=2000, help="sample size")
    p.add_argument("--seed", type=int, default=0, help="random seed of the sample data")
    p.add_argument("--host", default="127.0.0.1", help="address the API listens on")
    p.add_argument("--port", type=int, default=3000, help="port the API listens on")
    p.add_argument("--no-serve", action="store_true",
                   help="stop after building the serving snapshot (for scripts and CI)")
    p.set_defaults(handler=_demo)


def _run(step: str, argv: list[str]) -> None:
    # import cycle: forecasting.cli registers this module's command
    from forecasting.cli import main
    log.info("== %s: forecasting %s", step, " ".join(argv))
    t = time.perf_counter()
    code = main(argv)
    if code != 0:
        raise ForecastingError(f"demo step '{step}' failed (exit {code}); see the messages above")
    log.info("   done in %.1f s", time.perf_counter() - t)


def _demo(args) -> int:
    # imported when the command runs: keeps pandas, lightgbm and mlflow off 'forecasting --help'
    import pandas as pd

    # imported when the command runs: keeps pandas, lightgbm and mlflow off 'forecasting --help'
    from forecasting.io import read_table
    from forecasting.pipelines.snapshot import build_snapshot

    work = Path(args.workdir)
    data, out = work / "data", work / "out"
    t0 = time.perf_counter()
    _run("1. sample data", ["sample", str(data), "--customers", str(args.customers),
                            "--seed", str(args.seed)])
    _run("2. validate", ["validate", str(data)])
    orders = read_table(data / "orders.csv")
    as_of = f"{pd.to_datetime(orders['order_date']).max():%Y-%m-%d}"
    _run("3. features", ["features", str(data), "--as-of", as_of,
                         "--out", str(out / "features.parquet")])
    _run("4. train churn", ["train", "churn", str(data), "--report", str(out / "churn.json")])
    _run("5. promote churn", ["promote", "churn"])
    _run("6. train demand", ["train", "demand", str(data), "--report", str(out / "demand.json")])
    _run("7. promote demand", ["promote", "demand"])
    _run("8. score", ["score", str(data), "--as-of", as_of, "--out", str(out / "scores.csv")])
    _run("9. segments", ["segments", str(data), "--as-of", as_of,
                         "--out", str(out / "segments.csv"), "--plots", str(out / "plots")])
    _run("10. kpis", ["kpis", str(data), "--out", str(out / "kpis.csv"),
                      "--plots", str(out / "plots")])
    _run("11. follow-up list", ["followup", str(data), "--as-of", as_of,
                                "--out", str(out / "followup.csv")])
    _run("12. production plan", ["plan", str(data), "--inventory", str(data / "inventory.csv"),
                                 "--out", str(out / "plan.csv")])
    log.info("== 13. serving snapshot as of %s (a new version in the snapshot store)", as_of)
    meta = build_snapshot(data, as_of=as_of)
    for part, note in meta.get("notes", {}).items():
        log.warning("   %s: %s", part, note)
    scores = read_table(out / "scores.csv")
    products = read_table(data / "products.csv")["product_id"].tolist()
    log.info("demo pipeline finished in %.0f s; outputs in %s", time.perf_counter() - t0, out)
    print(CURL.format(host=args.host, port=args.port, cid=scores["customer_id"].iloc[0],
                      cid2=scores["customer_id"].iloc[-1], pid=products[0],
                      period=as_of[:7]))
    if args.no_serve:
        return 0
    _run("14. serve", ["serve", "--host", args.host, "--port", str(args.port)])
    return 0
