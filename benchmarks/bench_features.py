"""Benchmark: customer features at one cutoff on about 1M order lines / 50k customers.

Prints a table: time to generate, to only read the tables (Parquet), to read and validate them,
and to build the features, with the ratio of feature time to read time. Target: features in
under 5 s on a 2-core machine.

    .venv/bin/python benchmarks/bench_features.py [--customers 50000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from pathlib import Path

from forecasting.features import build_features
from forecasting.io import read_dataset, read_raw_tables
from forecasting.sample import generate, write

log = logging.getLogger("bench_features")


def _best(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out, statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--customers", type=int, default=50_000)
    p.add_argument("--as-of", default="2024-06-30")
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        data = generate(customers=args.customers)
        gen = time.perf_counter() - t
        write(data, tmp, fmt="parquet")
        sizes = {k: len(v) for k, v in data.tables().items()}
        read, _, read_med = _best(lambda: read_raw_tables(Path(tmp)), args.repeat)
        validated, ds, val_med = _best(lambda: read_dataset(Path(tmp)), args.repeat)
        feats, f, feat_med = _best(lambda: build_features(ds, args.as_of), args.repeat)
    print(f"\nfeatures benchmark: {sizes['orders']:,} order lines, {sizes['customers']:,} "
          f"customers, {sizes.get('complaints', 0):,} complaints, {sizes.get('surveys', 0):,} "
          f"surveys; cutoff {args.as_of}; best of {args.repeat}\n")
    rows = [("generate sample data", gen, gen),
            ("read tables only (Parquet)", read, read_med),
            ("read + validate", validated, val_med),
            (f"build_features ({len(f):,} customers x {f.shape[1]} columns)", feats, feat_med)]
    print(f"{'step':<55} {'best s':>8} {'median s':>9} {'x read':>7}")
    for name, best, med in rows:
        print(f"{name:<55} {best:>8.2f} {med:>9.2f} {best / read:>7.1f}")
    print(f"\ntarget: build_features < 5 s -> {'met' if feats < 5 else 'NOT met'}")


if __name__ == "__main__":
    main()
