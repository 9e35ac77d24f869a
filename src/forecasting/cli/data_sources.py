"""CLI commands that make or convert a data set: ``sample`` and ``import online-retail``."""

from __future__ import annotations

import logging
import time

from forecasting.cli import add_command

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


def _sample(args) -> int:
    from forecasting import sample

    t = time.perf_counter()
    data = sample.generate(customers=args.customers, products=args.products,
                           start=args.start, end=args.end, seed=args.seed)
    rows = sample.write(data, args.out_dir, fmt=args.fmt)
    log.info("wrote %s to %s in %.1f s", ", ".join(f"{k} {v:,}" for k, v in rows.items()),
             args.out_dir, time.perf_counter() - t)
    return 0
