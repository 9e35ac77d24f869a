"""Demand commands: ``train demand``, ``forecast``, ``plan``, ``promote demand``."""

from __future__ import annotations

import argparse
import logging

from forecasting import settings
from forecasting.cli import add_command, add_engine_options, add_read_options, read_options
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
    # imported when the command runs: keeps pandas, lightgbm and mlflow off 'forecasting --help'
    from forecasting.demand.models import REGISTRY

    unknown = [n for n in names or () if n not in REGISTRY and n != "ets_statsmodels"]
    if unknown:
        raise ForecastingError(f"unknown model(s) {unknown}: choose from "
                               f"{', '.join([*REGISTRY, 'ets_statsmodels'])}")


def _print_metrics(table, groups=None) -> None:
    cols = [c for c in table.columns if c.startswith("backtest_")]
    shown = table[cols].rename(columns=lambda c: c.replace("backtest_", ""))
    print(shown.round(3).to_string())
    if groups is not None and len(groups):
        print("chosen forecast by history (backtest cells of series of that kind):")
        print(groups.rename(columns=lambda c: c.replace("backtest_", "")).round(3)
              .to_string())


def _report(result, **extra) -> dict:
    """What a run chose and how every candidate did on the backtest (for --report)."""
    groups = result.group_metrics
    return {**extra, **result.model.summary(),
            "backtest": result.backtest_metrics.loc["chosen"].to_dict(),
            "backtest_by_history": (groups.to_dict(orient="index")
                                    if groups is not None else {}),
            "series_by_history": {g: ids for g, ids in result.series_by_history().items()
                                  if g != "full"},
            "candidates": result.backtest_metrics.drop(index="chosen").to_dict(orient="index")}


def cmd_forecast(args) -> int:
    # imported when the command runs: keeps pandas, lightgbm and mlflow off 'forecasting --help'
    from forecasting.demand.pipeline import forecast
    from forecasting.io import read_series, write_json, write_table

    _check_models(args.models)
    if args.engine == "spark":
        # heavy: pyspark (and a JVM) only when --engine spark is asked for
        from forecasting.engines import spark_demand as engine
        from forecasting.engines.spark_data import spark_session

        spark = spark_session(args.spark_master)
        res = engine.forecast(engine.read_series(args.series, spark), horizon=args.horizon,
                              freq=args.freq, levels=args.levels, candidates=args.models,
                              n_windows=args.windows)
        path = engine.write_forecasts(res.table, args.out, spark)
    else:
        history = read_series(args.series)
        res = forecast(history, horizon=args.horizon, freq=args.freq, levels=args.levels,
                       candidates=args.models, n_windows=args.windows)
        path = write_table(res.table, args.out)
    log.info("chosen: %s; wrote %d rows to %s", "+".join(res.model.choice.members()),
             len(res.table), path)
    if args.report:
        write_json(_report(res, series=str(args.series), horizon=args.horizon,
                           freq=res.panel.freq, n_series=res.panel.n), args.report)
    young = {g: ids for g, ids in res.series_by_history().items() if g != "full" and ids}
    for g, ids in young.items():
        log.info("%d %s series: %s%s", len(ids), g, ", ".join(ids[:10]),
                 " ..." if len(ids) > 10 else "")
    if not args.quiet_table:
        _print_metrics(res.backtest_metrics, res.group_metrics)
    return 0


def _history(args):
    """The long series table from --series FILE or from DATA_DIR's orders."""
    # imported when the command runs: keeps pandas, lightgbm and mlflow off 'forecasting --help'
    from forecasting.io import read_series

    if args.series:
        return read_series(args.series), args.freq, str(args.series)
    if not args.data_dir:
        raise ForecastingError("give DATA_DIR (a folder of tables) or --series FILE")
    # imported when the command runs: keeps pandas, lightgbm and mlflow off 'forecasting --help'
    from forecasting.demand.series import orders_to_series

    data = _data(args)
    freq = args.freq or settings.DEFAULT_FREQ
    return orders_to_series(data.orders, freq=freq, products=data.products), freq, \
        str(args.data_dir)


def _data(args):
    # imported when the command runs: keeps pandas, lightgbm and mlflow off 'forecasting --help'
    from forecasting.io import read_dataset

    if getattr(args, "_dataset", None) is None:
        args._dataset = read_dataset(args.data_dir, options=read_options(args))
    return args._dataset


def _churn_champion():
    # imported when the command runs: keeps pandas, lightgbm and mlflow off 'forecasting --help'
    from forecasting import tracking

    model, ref = tracking.load_model("churn")
    log.info("churn adjustment with churn model version %s", ref.version)
    return model


def cmd_train(args) -> int:
    # imported when the command runs: keeps pandas, lightgbm and mlflow off 'forecasting --help'
    from forecasting.demand.pipeline import DemandConfig
    from forecasting.demand.training import train
    from forecasting.io import write_json

    _check_models(args.models)
    series, freq, source = _history(args)
    cfg = DemandConfig(horizon=args.horizon, freq=freq, levels=args.levels,
                       candidates=args.models, n_windows=args.windows)
    adjust = None
    if args.churn_adjust:
        if not args.data_dir or args.series:
            raise ForecastingError("--churn-adjust needs DATA_DIR (the orders say who buys "
                                   "what), not --series")
        # imported when the command runs: keeps pandas, lightgbm and mlflow off 'forecasting --help'
        from forecasting.demand.churn_adjust import adjuster, history_end

        adjust = adjuster(_data(args), _churn_champion(), history_end(series, freq), freq)
    result, metrics, run_id = train(series, cfg, source=source, adjust=adjust)
    _print_metrics(result.backtest_metrics, result.group_metrics)
    print(f"chosen: {'+'.join(result.model.choice.members())}  run: {run_id}")
    if args.report:
        write_json(_report(result, run_id=run_id, **metrics), args.report)
    return 0


def cmd_promote(args) -> int:
    # imported when the command runs: keeps pandas, lightgbm and mlflow off 'forecasting --help'
    from forecasting import tracking
    from forecasting.demand.training import MODEL_NAME, decide

    res = tracking.promote(MODEL_NAME, decide, run_id=args.run_id)
    state = "promoted" if res.promoted else "not promoted"
    print(f"{MODEL_NAME} version {res.challenger.version}: {state}: {res.reason}")
    return 0


def cmd_plan(args) -> int:
    # imported when the command runs: keeps pandas, lightgbm and mlflow off 'forecasting --help'
    from forecasting.io import read_dataset, read_table, write_table
    from forecasting.demand.planning import plan_from_dataset

    options = read_options(args)
    data = read_dataset(args.data_dir, options=options)
    inventory = read_table(args.inventory, options, table="inventory") if args.inventory \
        else None
    model = None
    if args.champion:
        # imported when the command runs: keeps pandas, lightgbm and mlflow off 'forecasting --help'
        from forecasting import tracking

        model, ref = tracking.load_model("demand")
        log.info("using demand model version %s", ref.version)
    plan = plan_from_dataset(data, inventory, args.service_level, args.horizon,
                             args.freq, model=model,
                             default_lead_time_days=args.default_lead_time_days,
                             churn_model=_churn_champion() if args.churn_adjust else None)
    write_table(plan, args.out)
    shown = plan.copy()
    num = shown.select_dtypes("number").columns
    shown[num] = shown[num].round(2)
    print(shown.to_string(index=False, max_rows=30))
    return 0


def register(commands, train, promote) -> None:
    p = add_command(
        commands, "forecast", help="forecast any long series table (unique_id, ds, y)",
        description="Forecast every series of a long table H periods ahead. Candidates "
                    "(seasonal naive, mean, SES, damped, ETS by AICc, Theta, a decomposition "
                    "with seasonal indices pooled over the series, global LightGBM, and "
                    "Croston/SBA/TSB for intermittent series) are compared on rolling-"
                    "origin backtests of the history; the best ensemble is chosen there "
                    "(never on the forecast window). Intervals are conformal, calibrated on "
                    "the backtest errors. Every series is forecast whatever its length: "
                    "'full' (two seasons or more), 'short' (non-seasonal models and the "
                    "panel's pooled season) or 'new' (under 6 observations: a cold start from "
                    "similar products of the same category); the model and its intervals are "
                    "chosen per group on backtest cells of that group. Writes unique_id, ds, "
                    "yhat, yhat_lo_<L>, yhat_hi_<L>, history and prints the backtest metrics "
                    "of every candidate and of each history group.")
    p.add_argument("--series", required=True, help="long table (CSV or Parquet): unique_id, "
                   "ds, y; extra columns constant per series are product attributes; with "
                   "--engine spark also a folder of part files")
    p.add_argument("--horizon", type=int, required=True, help="periods to forecast")
    p.add_argument("--freq", default=None,
                   help="D, W, MS, ME, QS, QE, YS or YE (inferred from the dates when omitted)")
    p.add_argument("--levels", type=_levels, default=settings.DEFAULT_LEVELS,
                   help="interval levels in percent, comma separated")
    p.add_argument("--models", type=_models, default=None,
                   help="candidates to compare, comma separated (default: all that fit)")
    p.add_argument("--windows", type=int, default=2, help="rolling-origin backtest windows")
    p.add_argument("--quiet-table", action="store_true", help="do not print the metrics table")
    p.add_argument("--out", required=True, help="output file (.csv, .parquet or .json)")
    p.add_argument("--report", help="also write what was chosen and every candidate's "
                   "backtest metrics as JSON here")
    add_engine_options(p)
    p.set_defaults(handler=cmd_forecast)

    t = add_command(
        train, "demand", help="backtest demand models, choose, register 'demand' in MLflow",
        description="Build weekly (or --freq) net demand per product from DATA_DIR's orders "
                    "(completed minus returned, cancelled excluded), or read --series FILE; "
                    "run a rolling-origin backtest of every candidate, choose the ensemble on "
                    "it, calibrate conformal intervals, print the metrics side by side and log "
                    "the run (experiment 'demand') and the model ('demand', alias "
                    "challenger).")
    t.add_argument("data_dir", nargs="?", help="data set folder (orders[, products])")
    t.add_argument("--series", help="long table unique_id, ds, y instead of DATA_DIR")
    t.add_argument("--freq", default=None, help="W (default for orders), MS or D; any "
                   "supported alias for --series (inferred when omitted)")
    t.add_argument("--horizon", type=int, default=settings.DEFAULT_HORIZON, help="periods to forecast")
    t.add_argument("--levels", type=_levels, default=settings.DEFAULT_LEVELS, help="interval levels, %%")
    t.add_argument("--models", type=_models, default=None, help="candidates, comma separated")
    t.add_argument("--windows", type=int, default=2, help="rolling-origin backtest windows")
    t.add_argument("--report", help="write the run's metrics as JSON here")
    t.add_argument("--churn-adjust", action="store_true",
                   help="with DATA_DIR: also log the forecast with yhat_churn_adjusted (the "
                   "expected volume of customers likely to leave removed, from the champion "
                   "churn model)")
    add_read_options(t)
    t.set_defaults(handler=cmd_train)

    pr = add_command(
        promote, "demand", help="make the demand challenger champion if it is no worse",
        description="Promote the demand challenger (or the version of --run-id) to champion "
                    "when its backtest sMAPE and MASE and its interval coverage error are no "
                    "worse than the champion's on the same data. Models of a different "
                    "horizon, frequency or interval levels are not comparable: refused, with "
                    "what differs. When only the data (or backtest windows) differ, the "
                    "champion's method is re-run on the challenger's data and compared there. "
                    "A missing metric never passes.")
    pr.add_argument("--run-id", help="the training run whose model to promote")
    pr.set_defaults(handler=cmd_promote)

    pl = add_command(
        commands, "plan", help="production plan: safety stock and quantity to make",
        description="Per product: demand over the lead time, the service-level quantile of "
                    "lead-time demand (from sample paths of the forecast errors, not a sum of "
                    "per-period quantiles), safety stock, on hand, recommended production "
                    "(never negative, rounded up to min_batch) and the stockout date if "
                    "nothing is made. Every inventory product gets a row; products launched a "
                    "few weeks ago are forecast from their own and similar products' demand "
                    "(column history: full, short or new). The horizon covers the longest "
                    "lead time; a champion trained for fewer periods is extended and the "
                    "row's note says so.")
    pl.add_argument("data_dir", help="data set folder (orders[, inventory, products])")
    pl.add_argument("--inventory", help="inventory table (product_id, on_hand[, "
                    "lead_time_days, min_batch]); default: DATA_DIR's inventory table")
    pl.add_argument("--service-level", type=float, default=0.95,
                    help="probability of not running out during the lead time")
    pl.add_argument("--horizon", type=int, default=None,
                    help="forecast periods (default: the longest lead time)")
    pl.add_argument("--freq", default=None,
                    help="W, MS or D (default: the champion's own frequency with --champion, "
                    "else W); a --freq that contradicts the champion's is an error")
    # imported when the command runs: keeps pandas, lightgbm and mlflow off 'forecasting --help'
    from forecasting.demand.planning import DEFAULT_LEAD_TIME_DAYS

    pl.add_argument("--default-lead-time-days", type=float, default=DEFAULT_LEAD_TIME_DAYS,
                    help="lead time of products whose inventory row has no lead_time_days "
                    "(default %(default)s)")
    pl.add_argument("--churn-adjust", action="store_true",
                    help="plan on churn-adjusted demand: remove each customer's share of a "
                    "product's recent volume times their churn probability (champion churn "
                    "model) over the horizon")
    pl.add_argument("--champion", action="store_true",
                    help="use the champion 'demand' model from MLflow instead of fitting")
    pl.add_argument("--out", required=True, help="output file (.csv, .parquet or .json)")
    add_read_options(pl)
    pl.set_defaults(handler=cmd_plan)
