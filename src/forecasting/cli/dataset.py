"""CLI commands that check a data set and build features: ``validate`` and ``features``."""

from __future__ import annotations

import logging
import time

from forecasting.cli import (
    add_command, add_engine_options, add_read_options, read_options, spark_tables,
)
from forecasting.cutoff import Cutoff
from forecasting.errors import DataError

log = logging.getLogger("forecasting.cli.dataset")


def register(commands, train, promote) -> None:
    p = add_command(
        commands, "validate", help="check a data set against the data contract",
        description="Read every table in DATA_DIR (orders, customers, complaints, surveys, "
                    "inventory, products; CSV, Excel .xlsx or Parquet) and check every rule of "
                    "the data contract. Exit 0 and print how each file was read (encoding, "
                    "delimiter, decimal separator, column names, date format per column: given "
                    "or detected) and a summary (rows, customers, date range per table), or "
                    "exit 1 and print EVERY problem: table, column, rule, count, up to 5 "
                    "offending rows and how to fix it. Repairs (an unknown complaint category "
                    "becomes 'other') are counted in the summary.")
    p.add_argument("data_dir", metavar="DATA_DIR", help="folder with one file per table")
    p.add_argument("--now", default=None,
                   help="dates after this instant count as 'in the future' (default: now)")
    add_read_options(p)
    p.set_defaults(handler=_validate)

    p = add_command(
        commands, "features", help="customer features as of a date",
        description="One row per customer with a completed order in the lookback window "
                    "before --as-of, computed only from events at or before the cutoff. A date "
                    "without a time means the end of that day. Output: CSV, Parquet or JSON by "
                    "the extension of --out.")
    p.add_argument("data_dir", metavar="DATA_DIR", help="folder with one file per table")
    p.add_argument("--as-of", required=True, type=Cutoff.parse, help="cutoff date (YYYY-MM-DD[ HH:MM])")
    p.add_argument("--out", required=True, help="output file (.csv, .parquet or .json)")
    p.add_argument("--lookback-days", type=int, default=365,
                   help="a customer is active with an order in this many days before --as-of")
    add_read_options(p)
    add_engine_options(p)
    p.set_defaults(handler=_features)


def _validate(args) -> int:
    # imported when the command runs: keeps pandas, lightgbm and mlflow off 'forecasting --help'
    import pandas as pd

    # imported when the command runs: keeps pandas, lightgbm and mlflow off 'forecasting --help'
    from forecasting.io import read_sources
    from forecasting.validate import validate_tables

    options = read_options(args)
    raw, sources = read_sources(args.data_dir, options)
    report = validate_tables(raw, now=pd.Timestamp(args.now) if args.now else None,
                             context=str(args.data_dir), options=options, sources=sources)
    if not report.ok:
        for line in report.reading:
            log.info("read %s", line)
        log.error("%s", _problems_text(report))
        return 1
    for line in report.reading:
        print(f"read {line}")
    print(report.summary().to_string(index=False))
    for what, n in report.repairs.items():
        print(f"repaired {n:,} value(s): {what}")
    print(f"{args.data_dir}: valid")
    return 0


def _problems_text(report) -> str:
    return DataError(report.problems, context=report.context).format()


def _features(args) -> int:
    if args.engine == "spark":
        return _features_spark(args)
    # imported when the command runs: keeps pandas, lightgbm and mlflow off 'forecasting --help'
    from forecasting.features import build_features
    from forecasting.io import read_dataset, write_table

    t0 = time.perf_counter()
    data = read_dataset(args.data_dir, options=read_options(args))
    t1 = time.perf_counter()
    feats = build_features(data, args.as_of, lookback_days=args.lookback_days)
    t2 = time.perf_counter()
    write_table(feats.reset_index(), args.out)
    log.info("features as of %s: %s customers x %d columns -> %s (read %.1f s, build %.1f s)",
             args.as_of, f"{len(feats):,}", feats.shape[1], args.out, t1 - t0, t2 - t1)
    return 0


def _features_spark(args) -> int:
    # heavy: pyspark only with --engine spark
    from forecasting.engines import spark as engine

    t0 = time.perf_counter()
    tables = spark_tables(args)
    t1 = time.perf_counter()
    feats = engine.features(tables, args.as_of, lookback_days=args.lookback_days)
    engine.write(feats, args.out)
    log.info("features as of %s (Spark) -> %s (read and validate %.1f s, build and write "
             "%.1f s)", args.as_of, args.out, t1 - t0, time.perf_counter() - t1)
    return 0
