"""``forecasting serve``: build the scored snapshot and run the HTTP API (BentoML)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

from forecasting import settings
from forecasting.cli import add_command, add_read_options, read_options

log = logging.getLogger("forecasting.cli.serve")


def register(commands, train, promote) -> None:
    p = add_command(
        commands, "serve", help="run the HTTP API on 127.0.0.1 (BentoML)",
        description="Serve churn scores, demand forecasts, production plans, segments, KPIs and "
                    "model info over HTTP with the champion models. With --data, first score, "
                    "segment and forecast that data set as of --as-of (default: its last day) "
                    "and write the snapshot the API answers from; without it, serve the "
                    "existing snapshot (models/serving). Set FORECASTING_API_KEY to require "
                    "an API key. Web page for planners, account managers and managers: "
                    "http://HOST:PORT/ ; OpenAPI: http://HOST:PORT/docs.json")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=3000, help="port to listen on")
    p.add_argument("--data", default=None, help="data set folder to build the snapshot from")
    p.add_argument("--as-of", default=None, help="snapshot date (default: last order day)")
    p.add_argument("--horizon", type=int, default=12, help="forecast periods in the snapshot")
    p.add_argument("--freq", default="W", choices=("W", "MS", "D"), help="forecast frequency")
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
    from forecasting.errors import ForecastingError
    from forecasting.pipelines.snapshot import build_snapshot, snapshot_dir

    if args.data:
        build_snapshot(args.data, as_of=args.as_of, horizon=args.horizon, freq=args.freq,
                       options=read_options(args), churn_adjust=args.churn_adjust)
    elif not (snapshot_dir() / "meta.json").exists():
        raise ForecastingError(
            f"no scored snapshot in {snapshot_dir()}: run 'forecasting serve --data DATA_DIR' "
            f"(scores that data set with the champion models first) or 'forecasting demo'")
    log.info("serving on http://%s:%d (web page at /, OpenAPI at /docs.json); Ctrl+C stops "
             "it", args.host, args.port)
    try:
        env = {**os.environ, settings.API_WORKERS_ENV: str(args.workers)}
        return subprocess.call(bentoml_command(args.host, args.port), env=env)
    except KeyboardInterrupt:
        return 0
