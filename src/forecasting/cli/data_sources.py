"""CLI commands that make or convert a data set: ``sample`` and ``import online-retail``."""

from __future__ import annotations

import logging
import time

from forecasting.cli import add_command
from pathlib import Path

log = logging.getLogger("forecasting.cli.data_sources")


def register(commands, train, promote) -> None:
    p = add_command(
        commands, "sample", help="generate a seeded, realistic sample data set",
        description="Write a seeded sample data set in the data contract (orders, customers, "
                    "complaints, surveys, inventory, products) to OUT_DIR, one file per table. "
                    "The same seed always gives the same data.")
    p.add_argument("out_dir", metavar="OUT_DIR", help="folder to write the tables into")
    p.add_argument("--customers", type=int, default=2000, help="number of customers")
    p.add_argument("--products", type=int, default=100, help="number of products")
    p.add_argument("--start", default="2023-01-01", help="first order date (YYYY-MM-DD)")
    p.add_argument("--end", default="2024-12-31", help="last order date (YYYY-MM-DD)")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--format", dest="fmt", choices=("csv", "parquet"), default="csv",
                   help="file format of the tables")
    p.set_defaults(handler=_sample)
    _register_import(commands)


def _sample(args) -> int:
    # imported when the command runs: keeps pandas, lightgbm and mlflow off 'forecasting --help'
    from forecasting import sample

    t = time.perf_counter()
    data = sample.generate(customers=args.customers, products=args.products,
                           start=args.start, end=args.end, seed=args.seed, progress=True)
    rows = sample.write(data, args.out_dir, fmt=args.fmt)
    log.info("wrote %s to %s in %.1f s", ", ".join(f"{k} {v:,}" for k, v in rows.items()),
             args.out_dir, time.perf_counter() - t)
    return 0


def _register_import(commands) -> None:
    group = add_command(
        commands, "import", help="convert a public data layout into the data contract",
        description="Convert a public data set into a data set folder in the data contract. "
                    "Every raw line is converted or set aside with a reason; the counts are "
                    "printed.")
    sources = group.add_subparsers(dest="source", metavar="SOURCE", required=True)
    p = add_command(
        sources, "online-retail", help="UCI Online Retail (or Online Retail II) invoices",
        description="Convert UCI Online Retail invoice lines (CSV or Parquet; Online Retail "
                    "or Online Retail II column names) into orders, customers and products. "
                    "Cancellations (invoice 'C...') become returned lines of the same "
                    "customer; lines without a customer id stay in orders for product demand "
                    "but not in customers; stock write-offs, zero and negative prices are "
                    "set aside and counted.")
    p.add_argument("src", metavar="SRC", help="the raw file (.csv, .csv.gz or .parquet)")
    p.add_argument("out_dir", metavar="OUT_DIR", help="folder to write the tables into")
    p.add_argument("--format", dest="fmt", choices=("parquet", "csv"), default="parquet",
                   help="file format of the tables")
    p.set_defaults(handler=_import_online_retail)


def _import_online_retail(args) -> int:
    # imported when the command runs: keeps pandas, lightgbm and mlflow off 'forecasting --help'
    from forecasting.importers.online_retail import convert
    from forecasting.io import read_table, write_table

    t = time.perf_counter()
    raw = read_table(args.src)
    data, report = convert(raw)
    for name, df in data.tables().items():
        path = write_table(df, Path(args.out_dir) / f"{name}.{args.fmt}")
        log.info("wrote %s (%s rows)", path, f"{len(df):,}")
    print(report.to_frame().to_string(index=False))
    log.info("imported %s in %.1f s", args.src, time.perf_counter() - t)
    return 0
