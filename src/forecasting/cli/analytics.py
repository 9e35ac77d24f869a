"""CLI commands of the customer analytics: ``segments``, ``kpis`` and ``followup``."""

from __future__ import annotations

import logging
import time

from forecasting.cli import (
    add_command, add_engine_options, add_read_options, read_options, spark_tables,
)
from forecasting.cutoff import Cutoff
from forecasting.errors import ForecastingError

log = logging.getLogger("forecasting.cli.analytics")

_OUT_HELP = "output file: .csv, .json (records) or .parquet, by extension"


def register(commands, train, promote) -> None:
    p = add_command(
        commands, "segments", help="RFM scores, named segments, lifecycle stage and value",
        description="One row per customer as of --as-of: recency (days since the last "
                    "completed order), frequency and revenue in the lookback window, their "
                    "1-5 quintile scores (equal values share the lowest score of their group), "
                    "the named RFM segment, the lifecycle stage (prospect, new, active, at "
                    "risk, churned), revenue to date, expected revenue over the next 12 months "
                    "and value at risk = churn probability x revenue if retained. The churn "
                    "probability comes from the champion churn model when one is registered, "
                    "else from RFM rules (historical churn rate per segment); the column "
                    "churn_source says which. A date means the end of that day.")
    _common(p)
    p.add_argument("--plots", metavar="DIR", default=None,
                   help="also write segments.png (sizes and revenue share) into DIR")
    add_engine_options(p)
    p.set_defaults(handler=_segments)

    p = add_command(
        commands, "kpis", help="customer KPIs per period: overall, per segment, per customer",
        description="Order fulfilment rate, retention, repurchase and churn rates, NPS, CSAT, "
                    "complaint rate per 100 orders by category and complaint resolution time "
                    "(mean, p90) for every period of the data: overall, per RFM segment and per "
                    "customer. One row per period, level, group and KPI. A KPI without data is "
                    "empty and the 'note' column says why (never 0). 'Customers at start' of a "
                    "period = customers with a completed order in the --lookback-days before "
                    "it; see 'python -c \"import forecasting.analytics.kpis as k; help(k)\"'.")
    p.add_argument("data_dir", metavar="DATA_DIR", help="folder with one file per table")
    p.add_argument("--period", default="month", choices=("week", "month", "quarter", "year"),
                   help="length of a reporting period")
    p.add_argument("--out", required=True, help=_OUT_HELP)
    p.add_argument("--lookback-days", type=int, default=365,
                   help="a customer counts at a date with a completed order this many days "
                        "before it")
    p.add_argument("--horizon-days", type=int, default=90,
                   help="churned = no completed order this many days after the period start")
    p.add_argument("--levels", default="overall,segment,customer",
                   help="comma-separated levels to report: overall, segment, customer")
    p.add_argument("--plots", metavar="DIR", default=None,
                   help="also write kpi_trends.png (overall KPIs by period) into DIR")
    add_read_options(p)
    p.set_defaults(handler=_kpis)

    p = add_command(
        commands, "followup", help="customers ranked by value at risk, with reasons and actions",
        description="The follow-up plan: customers with value at risk as of --as-of, largest "
                    "first, with their top reasons (from their complaints, deliveries, surveys "
                    "and order rhythm), a suggested action (quality review, logistics review, "
                    "account manager visit, sales call) and a visit frequency by value tier "
                    "(A: top 10%% by 12-month revenue, monthly; B: next 20%%, quarterly; C: "
                    "twice a year).")
    _common(p)
    p.add_argument("--top", type=int, default=None, help="keep only the first N customers")
    p.add_argument("--plots", metavar="DIR", default=None,
                   help="also write followup.png (top 20 customers) into DIR")
    p.set_defaults(handler=_followup)


def _common(p) -> None:
    p.add_argument("data_dir", metavar="DATA_DIR", help="folder with one file per table")
    p.add_argument("--as-of", required=True, type=Cutoff.parse, help="date of the analysis (YYYY-MM-DD)")
    p.add_argument("--out", required=True, help=_OUT_HELP)
    p.add_argument("--lookback-days", type=int, default=365,
                   help="frequency and revenue window; active = an order in this window")
    p.add_argument("--horizon-days", type=int, default=90,
                   help="churn horizon used for the RFM-rule churn rates")
    p.add_argument("--no-model", action="store_true",
                   help="do not use the champion churn model even when one is registered")
    add_read_options(p)


def _config(args):
    # imported when the command runs: keeps pandas, lightgbm and mlflow off 'forecasting --help'
    from forecasting.analytics.segments import SegmentConfig

    return SegmentConfig(lookback_days=args.lookback_days, horizon_days=args.horizon_days)


def _scores(data, args):
    """The champion's churn scores, unless --no-model (None: RFM rules decide)."""
    if args.no_model:
        return None
    # imported when the command runs: keeps pandas, lightgbm and mlflow off 'forecasting --help'
    from forecasting.churn.score import champion_scores

    return champion_scores(data, args.as_of)


def _segments(args) -> int:
    # imported when the command runs: keeps pandas, lightgbm and mlflow off 'forecasting --help'
    from forecasting.io import read_dataset, write_table
    from forecasting.analytics.segments import segments

    t = time.perf_counter()
    if args.engine == "spark":
        return _segments_spark(args, t)
    data = read_dataset(args.data_dir, options=read_options(args))
    seg = segments(data, args.as_of, _config(args), churn_scores=_scores(data, args))
    write_table(seg, args.out)
    if args.plots:
        # imported when the command runs: keeps pandas, lightgbm and mlflow off 'forecasting --help'
        from forecasting.analytics.plots import save_figures, segments_figure

        save_figures({"segments": segments_figure(seg)}, args.plots)
    sources = ", ".join(f"{k} {v:,}" for k, v in seg["churn_source"].value_counts().items())
    log.info("segments of %s customers as of %s -> %s (churn from %s; %.1f s)",
             f"{len(seg):,}", args.as_of, args.out, sources or "-", time.perf_counter() - t)
    summary = seg.groupby("segment", dropna=True).agg(
        customers=("customer_id", "size"), value_at_risk_12m=("value_at_risk_12m", "sum"))
    print(summary.sort_values("value_at_risk_12m", ascending=False).round(0).to_string())
    return 0


def _segments_spark(args, t: float) -> int:
    # heavy: pyspark only with --engine spark
    from forecasting.engines import spark as engine

    tables = spark_tables(args)
    scores = None if args.no_model else _spark_scores(tables, args)
    seg = engine.segments(tables, args.as_of, _config(args), churn_scores=scores).persist()
    engine.write(seg, args.out)
    if args.plots:
        # heavy: matplotlib only with --plots
        from forecasting.analytics.plots import save_figures, segments_figure

        save_figures({"segments": segments_figure(engine.to_pandas(seg))}, args.plots)
    summary = engine.to_pandas(seg.filter(seg["segment"].isNotNull()).groupBy("segment").agg(
        {"customer_id": "count", "value_at_risk_12m": "sum"})).set_index("segment")
    summary = summary.rename(columns={"count(customer_id)": "customers",
                                      "sum(value_at_risk_12m)": "value_at_risk_12m"})
    log.info("segments as of %s (Spark) -> %s (%.1f s)", args.as_of, args.out,
             time.perf_counter() - t)
    print(summary[["customers", "value_at_risk_12m"]].sort_values(
        "value_at_risk_12m", ascending=False).round(0).to_string())
    return 0


def _spark_scores(tables, args):
    """The champion's scores on Spark, or None (RFM rules) like :func:`_scores`."""
    # heavy: the churn model's libraries and pyspark, only with --engine spark
    from forecasting.churn.score import load_champion
    from forecasting.engines import spark as engine
    from forecasting.errors import ForecastingError

    try:  # the same fallback as forecasting.churn.score.champion_scores
        model = load_champion()
        scores = engine.score(tables, args.as_of, model).persist()
        lookback = int(model.config.get("lookback_days", 365))
        engine.check_active(scores, args.as_of, lookback)
        return scores
    except ForecastingError as exc:
        log.info("no usable champion churn model (%s); churn probabilities come from RFM "
                 "rules", str(exc).splitlines()[0])
        return None


def _kpis(args) -> int:
    # imported when the command runs: keeps pandas, lightgbm and mlflow off 'forecasting --help'
    from forecasting.io import read_dataset, write_table
    from forecasting.analytics.kpis import KpiConfig, kpi_table, kpi_wide

    levels = tuple(x.strip() for x in args.levels.split(",") if x.strip())
    bad = sorted(set(levels) - {"overall", "segment", "customer"})
    if bad or not levels:
        raise ForecastingError(f"--levels {args.levels!r}: unknown level(s) {bad}; use a "
                               f"comma-separated list of overall, segment, customer")
    t = time.perf_counter()
    data = read_dataset(args.data_dir, options=read_options(args))
    cfg = KpiConfig(period=args.period, lookback_days=args.lookback_days,
                    horizon_days=args.horizon_days, levels=levels)
    table = kpi_table(data, cfg)
    write_table(table, args.out)
    if args.plots:
        # imported when the command runs: keeps pandas, lightgbm and mlflow off 'forecasting --help'
        from forecasting.analytics.plots import kpi_trends_figure, save_figures

        save_figures({"kpi_trends": kpi_trends_figure(table)}, args.plots)
    log.info("%s KPI rows -> %s (%.1f s)", f"{len(table):,}", args.out, time.perf_counter() - t)
    if "overall" in levels:
        print(kpi_wide(table).droplevel("group").tail(12).round(1).T.to_string())
    return 0


def _followup(args) -> int:
    # imported when the command runs: keeps pandas, lightgbm and mlflow off 'forecasting --help'
    from forecasting.analytics.followup import followup_list
    from forecasting.io import read_dataset, write_table

    t = time.perf_counter()
    data = read_dataset(args.data_dir, options=read_options(args))
    follow = followup_list(data, args.as_of, _config(args), top=args.top,
                           churn_scores=_scores(data, args))
    write_table(follow, args.out)
    if args.plots:
        # imported when the command runs: keeps pandas, lightgbm and mlflow off 'forecasting --help'
        from forecasting.analytics.plots import followup_figure, save_figures

        save_figures({"followup": followup_figure(follow)}, args.plots)
    log.info("follow-up list of %s customers -> %s (%.1f s)", f"{len(follow):,}", args.out,
             time.perf_counter() - t)
    cols = ["rank", "customer_id", "value_at_risk_12m", "segment", "value_tier",
            "suggested_action"]
    print(follow[cols].head(10).round(0).to_string(index=False))
    return 0
