"""``forecasting serve``: build the scored snapshot and run the HTTP API (BentoML)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

from forecasting import settings
from forecasting.cli import add_command, add_read_options, read_options
from forecasting.cutoff import Cutoff
from forecasting.errors import ForecastingError
from forecasting.settings import DEFAULT_FREQ, DEFAULT_HORIZON

log = logging.getLogger("forecasting.cli.serve")


def register(commands, train, promote) -> None:
    p = add_command(
        commands, "serve", help="run the HTTP API on 127.0.0.1 (BentoML)",
        description="Serve churn scores, demand forecasts, production plans, segments, KPIs and "
                    "model info over HTTP with the champion models. With --data, first score, "
                    "segment and forecast that data set as of --as-of (default: its last day) "
                    "into a new snapshot version made current (as 'forecasting refresh' does); "
                    "without it, serve the store's current snapshot (models/snapshots, or "
                    "FORECASTING_SNAPSHOT_ROOT; FORECASTING_SNAPSHOT_DIR serves a fixed folder "
                    "instead). The running API loads a new current snapshot or champion model "
                    "by itself every FORECASTING_RELOAD_SECONDS (default 30) and on POST "
                    "/admin/reload. Set FORECASTING_API_KEY to require an API key. Web page for "
                    "planners, account managers and managers: http://HOST:PORT/ ; OpenAPI: "
                    "http://HOST:PORT/docs.json")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=3000, help="port to listen on")
    p.add_argument("--data", default=None, help="data set folder to build the snapshot from")
    p.add_argument("--as-of", default=None, type=Cutoff.parse,
                   help="snapshot date (default: last order day)")
    p.add_argument("--horizon", type=int, default=DEFAULT_HORIZON,
                   help="forecast periods in the snapshot")
    p.add_argument("--freq", default=DEFAULT_FREQ, choices=settings.ORDER_FREQS,
                   help="forecast frequency")
    p.add_argument("--churn-adjust", action="store_true",
                   help="add yhat_churn_adjusted to the snapshot's forecasts (the champion churn "
                   "model's expected lost volume removed)")
    p.add_argument("--workers", type=int, default=1, help="API worker processes")
    add_read_options(p)
    p.set_defaults(handler=_serve)


def bentoml_command(host: str, port: int) -> list[str]:
    exe = os.path.join(os.path.dirname(sys.executable), "bentoml")
    return [exe if os.path.exists(exe) else "bentoml", "serve",
            "forecasting.api.service:ForecastingService", "--host", host, "--port", str(port)]


def _serve(args) -> int:
    # imported when the command runs: keeps pandas, lightgbm and mlflow off 'forecasting --help'
    from forecasting.pipelines.snapshot import build_snapshot, snapshot_dir

    if args.data:
        build_snapshot(args.data, as_of=args.as_of, horizon=args.horizon, freq=args.freq,
                       options=read_options(args), churn_adjust=args.churn_adjust)
    else:
        folder = snapshot_dir()
        if folder is None or not (folder / "meta.json").exists():
            where = folder or f"the store {settings.current().snapshot_root} (no CURRENT yet)"
            raise ForecastingError(
                f"no scored snapshot in {where}: run 'forecasting refresh DATA_DIR' or "
                f"'forecasting serve --data DATA_DIR' (scores that data set with the champion "
                f"models first) or 'forecasting demo'")
    log.info("serving on http://%s:%d (web page at /, OpenAPI at /docs.json); Ctrl+C stops "
             "it", args.host, args.port)
    try:
        env = {**os.environ, settings.API_WORKERS_ENV: str(args.workers)}
        return subprocess.call(bentoml_command(args.host, args.port), env=env)
    except KeyboardInterrupt:
        return 0
