"""Demand commands: ``train demand``, ``forecast``, ``plan``, ``promote demand``."""

from __future__ import annotations

import argparse
import logging

from forecasting.cli import add_command
from forecasting.errors import ForecastingError

log = logging.getLogger("forecasting.cli.demand")


def _levels(text: str) -> tuple[int, ...]:
    try:
        levels = tuple(sorted({int(v) for v in text.split(",") if v.strip()}))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"levels must be integers like 80,95: {text!r}") from exc
    if not levels or any(not 0 < v < 100 for v in levels):
        raise argparse.ArgumentTypeError("levels are percentages between 1 and 99, e.g. 80,95")
    return levels


def _models(text: str | None):
    return tuple(m.strip() for m in text.split(",") if m.strip()) if text else None


def _check_models(names) -> None:
    from forecasting.demand.models import REGISTRY

    unknown = [n for n in names or () if n not in REGISTRY and n != "ets_statsmodels"]
    if unknown:
        raise ForecastingError(f"unknown model(s) {unknown}: choose from "
                               f"{', '.join([*REGISTRY, 'ets_statsmodels'])}")


def _print_metrics(table) -> None:
    cols = [c for c in table.columns if c.startswith("backtest_")]
    shown = table[cols].rename(columns=lambda c: c.replace("backtest_", ""))
    print(shown.round(3).to_string())


def cmd_forecast(args) -> int:
    from forecasting.demand.pipeline import forecast
    from forecasting.io import read_series, write_table

    _check_models(args.models)
    history = read_series(args.series)
    res = forecast(history, horizon=args.horizon, freq=args.freq, levels=args.levels,
                   candidates=args.models, n_windows=args.windows)
    path = write_table(res.table, args.out)
    log.info("chosen: %s; wrote %d rows to %s", "+".join(res.model.choice.members()),
             len(res.table), path)
    if not args.quiet_table:
        _print_metrics(res.backtest_metrics)
    return 0


def register(commands, train, promote) -> None:
    p = add_command(
        commands, "forecast", help="forecast any long series table (unique_id, ds, y)",
        description="Forecast every series of a long table H periods ahead. Candidates "
                    "(seasonal naive, mean, SES, damped, ETS by AICc, Theta, global LightGBM, "
                    "and Croston/SBA/TSB for intermittent series) are compared on rolling-"
                    "origin backtests of the history; the best ensemble is chosen there "
                    "(never on the forecast window). Intervals are conformal, calibrated on "
                    "the backtest errors. Writes unique_id, ds, yhat, yhat_lo_<L>, "
                    "yhat_hi_<L> and prints the backtest metrics of every candidate.")
    p.add_argument("--series", required=True, help="long table (CSV or Parquet): unique_id, "
                   "ds, y; extra columns constant per series are product attributes")
    p.add_argument("--horizon", type=int, required=True, help="periods to forecast")
    p.add_argument("--freq", default=None,
                   help="D, W, MS, ME, QS, QE, YS or YE (inferred from the dates when omitted)")
    p.add_argument("--levels", type=_levels, default=(80, 95),
                   help="interval levels in percent, comma separated")
    p.add_argument("--models", type=_models, default=None,
                   help="candidates to compare, comma separated (default: all that fit)")
    p.add_argument("--windows", type=int, default=2, help="rolling-origin backtest windows")
    p.add_argument("--quiet-table", action="store_true", help="do not print the metrics table")
    p.add_argument("--out", required=True, help="output file (.csv, .parquet or .json)")
    p.set_defaults(handler=cmd_forecast)
