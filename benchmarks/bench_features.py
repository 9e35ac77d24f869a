"""Benchmark: customer features at one cutoff on about 1M order lines / 50k customers.

The same seeded sample is written as Parquet, as CSV (as ``forecasting sample`` writes it), and
with orders.csv as an ERP export on a Chinese Windows writes it (GB18030, ';', decimal commas,
31.01.2024 dates, Chinese column names mapped with --columns). Prints one table, the Parquet
figures being the baseline of the same run: time to read the tables only, to read and validate
them, to build the features, and the whole ``forecasting features`` command (a subprocess, as
a user runs it) from each format.

Targets: build_features < 5 s; CSV read + validate <= 3 s; the features command on the CSV
files <= 8 s, on a 2-core machine.

    .venv/bin/python benchmarks/bench_features.py [--customers 50000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from forecasting.features import build_features
from forecasting.io import ReadOptions, read_dataset, read_raw_tables
from forecasting.sample import generate, write

log = logging.getLogger("bench_features")


def _best(fn, repeat: int) -> tuple[float, object, float]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out, statistics.median(times)


EXPORT_NAMES = {"order_id": "订单号", "customer_id": "客户", "order_date": "日期",
                "amount": "金额"}


def _write_export(csv_dir: Path, out_dir: Path) -> list[str]:
    """The CSV data set with orders.csv as an ERP export; returns the extra CLI arguments."""
    import shutil

    import pandas as pd

    out_dir.mkdir()
    for f in csv_dir.iterdir():
        if f.name != "orders.csv":
            shutil.copy(f, out_dir / f.name)
    o = pd.read_csv(csv_dir / "orders.csv", dtype=str, keep_default_na=False)
    for c in ("order_date", "promised_date", "delivered_date"):
        o[c] = pd.to_datetime(o[c].replace("", None)).dt.strftime("%d.%m.%Y").fillna("")
    o["amount"] = o["amount"].str.replace(".", ",", regex=False)
    o["quantity"] = o["quantity"].str.replace(".0", "", regex=False)
    o.rename(columns=EXPORT_NAMES).to_csv(out_dir / "orders.csv", sep=";", index=False,
                                          encoding="gb18030", lineterminator="\r\n")
    mapping = "\n".join(f'"{theirs}" = "{ours}"' for ours, theirs in EXPORT_NAMES.items())
    (out_dir / "columns.toml").write_text(f"[orders]\n{mapping}\n", encoding="utf-8")
    return ["--columns", str(out_dir / "columns.toml")]


def _command(folder: Path, as_of: str, out: Path, *extra: str) -> float:
    """``forecasting features`` as a user runs it; returns the read + validate seconds it
    logs (a fresh process: imports and first allocations included); fails if it fails."""
    r = subprocess.run([sys.executable, "-m", "forecasting", "features", str(folder),
                        "--as-of", as_of, "--out", str(out), *extra], check=True,
                       capture_output=True,
                       text=True, env={**os.environ, "OMP_NUM_THREADS": os.environ.get(
                           "OMP_NUM_THREADS", "1")})
    return float(re.search(r"\(read ([0-9.]+) s", r.stderr).group(1))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--customers", type=int, default=50_000)
    p.add_argument("--as-of", default="2024-06-30")
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        pq_dir, csv_dir, out = Path(tmp, "parquet"), Path(tmp, "csv"), Path(tmp, "f.parquet")
        t = time.perf_counter()
        data = generate(customers=args.customers)
        gen = time.perf_counter() - t
        write(data, pq_dir, fmt="parquet")
        write(data, csv_dir, fmt="csv")
        sizes = {k: len(v) for k, v in data.tables().items()}
        mb = (csv_dir / "orders.csv").stat().st_size / 1e6
        rows = [("generate sample data", gen, gen)]
        read, _, read_med = _best(lambda: read_raw_tables(pq_dir), args.repeat)
        rows.append(("read tables only, Parquet (baseline)", read, read_med))
        best, ds, med = _best(lambda: read_dataset(pq_dir), args.repeat)
        rows.append(("read + validate, Parquet (baseline)", best, med))
        best, _, med = _best(lambda: read_raw_tables(csv_dir), args.repeat)
        rows.append((f"read tables only, CSV (orders.csv {mb:.0f} MB)", best, med))
        csv_validated, ds_csv, med = _best(lambda: read_dataset(csv_dir), args.repeat)
        rows.append(("read + validate, CSV", csv_validated, med))
        feats, f, feat_med = _best(lambda: build_features(ds, args.as_of), args.repeat)
        rows.append((f"build_features ({len(f):,} customers x {f.shape[1]} columns)", feats,
                     feat_med))
        best, _, med = _best(lambda: _command(pq_dir, args.as_of, out), args.repeat)
        rows.append(("`forecasting features`, whole command, Parquet", best, med))
        wall, logged = [], []
        for _ in range(args.repeat):
            t = time.perf_counter()
            logged.append(_command(csv_dir, args.as_of, out))
            wall.append(time.perf_counter() - t)
        cmd_csv = min(wall)
        rows.append(("`forecasting features`, whole command, CSV", cmd_csv,
                     statistics.median(wall)))
        rows.append(("  its read + validate (as it logs it, fresh process)", min(logged),
                     statistics.median(logged)))
        extra = _write_export(csv_dir, Path(tmp, "export"))
        options = ReadOptions.from_strings(columns=extra[1])
        best, ds_export, med = _best(lambda: read_dataset(Path(tmp, "export"), options=options),
                                     args.repeat)
        rows.append(("read + validate, ERP export (GB18030 ; 1,5 31.01.2024)", best, med))
        best, _, med = _best(lambda: _command(Path(tmp, "export"), args.as_of, out, *extra),
                             args.repeat)
        rows.append(("`forecasting features`, whole command, ERP export", best, med))
        same_export = build_features(ds_export, args.as_of).equals(f)
        same = build_features(ds_csv, args.as_of).equals(f)
    print(f"\nfeatures benchmark: {sizes['orders']:,} order lines, {sizes['customers']:,} "
          f"customers, {sizes.get('complaints', 0):,} complaints, {sizes.get('surveys', 0):,} "
          f"surveys; cutoff {args.as_of}; best of {args.repeat}\n")
    print(f"{'step':<58} {'best s':>8} {'median s':>9} {'x read':>7}")
    for name, best, med in rows:
        print(f"{name:<58} {best:>8.2f} {med:>9.2f} {best / read:>7.1f}")
    print(f"\nfeatures from CSV equal features from Parquet: {same}; from the ERP export: "
          f"{same_export}")
    for what, value, target in (("build_features", feats, 5.0),
                                ("CSV read + validate", csv_validated, 3.0),
                                ("features command on CSV", cmd_csv, 8.0)):
        print(f"target: {what} <= {target:g} s -> {'met' if value <= target else 'NOT met'} "
              f"({value:.2f} s)")


if __name__ == "__main__":
    main()
