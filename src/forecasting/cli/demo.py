"""``forecasting demo``: everything end to end on the bundled sample data."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from forecasting.cli import add_command

log = logging.getLogger("forecasting.cli.demo")


def register(commands, train, promote) -> None:
    p = add_command(
        commands, "demo", help="run everything end to end on sample data",
        description="Generate the seeded sample data set, validate it and build customer "
                    "features as of its last day, printing a summary of each step. Files go "
                    "under --workdir (default ./demo); MLflow under ./models.")
    p.add_argument("--workdir", default="demo", help="folder for the demo's data and outputs")
    p.add_argument("--customers", type=int, default=2000, help="sample size")
    p.add_argument("--seed", type=int, default=0, help="random seed of the sample data")
    p.set_defaults(handler=_demo)


def _step(name: str):
    log.info("== %s", name)
    return time.perf_counter()


def _demo(args) -> int:
    from forecasting import sample
    from forecasting.features import build_features
    from forecasting.io import read_raw_tables, write_table
    from forecasting.validate import validate_tables

    work = Path(args.workdir)
    data_dir = work / "data"
    t = _step(f"1. sample data -> {data_dir}")
    data = sample.generate(customers=args.customers, seed=args.seed)
    sample.write(data, data_dir, fmt="csv")
    log.info("   %s (%.1f s)", ", ".join(f"{k} {len(v):,}" for k, v in data.tables().items()),
             time.perf_counter() - t)

    t = _step("2. validate")
    report = validate_tables(read_raw_tables(data_dir), context=str(data_dir))
    report.raise_if_failed()
    print(report.summary().to_string(index=False))
    as_of = data.orders["order_date"].max().normalize()

    t = _step(f"3. features as of {as_of:%Y-%m-%d}")
    feats = build_features(report.dataset, as_of)
    write_table(feats.reset_index(), work / "features.parquet")
    log.info("   %s active customers x %d features -> %s (%.1f s)", f"{len(feats):,}",
             feats.shape[1], work / "features.parquet", time.perf_counter() - t)
    cols = ["days_since_last_order", "orders_365d", "amount_365d", "complaints_365d",
            "csat_last", "on_time_rate_365d"]
    print(feats[cols].describe().T[["mean", "50%", "max"]].round(2).to_string())
    return 0
