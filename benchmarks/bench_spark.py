"""Benchmark: features and churn scoring per engine (local pandas vs Spark local[2]) on 1, 5 and
20 million order lines, each run in its own process under a memory cap.

Data: seeded synthetic orders (two lines per order, 20 lines per customer on average, two
years) and customers, generated in chunks of one million lines into one Parquet file per table
(row groups of 1M lines; both engines read the same files). The churn model is LightGBM with
library defaults trained on the 2,000-customer sample (the scoring cost does not depend on
how good it is).

Each run (engine x task x size) is a child process: read + validate + features (+ scores)
+ write Parquet. The parent samples the resident memory of the child's whole process tree
(Python, the JVM, Spark's Python workers) every 0.2 s and kills it above ``--cap-gb``: "over
cap" in the table. The local engine is the baseline of the same run.

    nice -n 10 .venv/bin/python benchmarks/bench_spark.py --sizes 1,5,20 --cap-gb 6

``--forecast-series 2000,10000``: demand forecasts (``forecast``, every default candidate,
h = 12 weeks) of that many seeded synthetic weekly series (three years; 70% full history,
20% short, 10% new; a tenth intermittent; ten categories with their own seasonal shapes),
per engine in a child process under the same cap; the local engine is the baseline, and
the two outputs are compared (max abs difference of every number). ``--retail``: Online
Retail (``/work/shared/data``) through both engines in one process: features, churn scores
(a LightGBM trained on it) and, with ``--retail-forecast``, the weekly forecasts of every
product; prints the max abs differences.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pyarrow as pa
import pyarrow.parquet as pq

log = logging.getLogger("bench_spark")

AS_OF = "2024-12-31"
NOW = "2026-01-01"
CHUNK = 1_000_000
REGIONS = np.array(["north", "south", "east", "west", "central"])
INDUSTRIES = np.array(["electronics", "food", "construction", "automotive", "chemicals"])
TIERS = np.array(["A", "B", "C"])


def generate(folder: Path, lines: int, seed: int = 0) -> None:
    """orders.parquet (``lines`` rows) and customers.parquet in ``folder``, in 1M-line chunks."""
    folder.mkdir(parents=True, exist_ok=True)
    n_customers = max(1000, lines // 20)
    start = np.datetime64("2023-01-01T00:00:00", "s")
    span = int((np.datetime64("2025-01-01", "s") - start).astype(int))
    writer = None
    for first in range(0, lines, CHUNK):
        rng = np.random.default_rng([seed, first])
        n = min(CHUNK, lines - first)
        line = np.arange(first, first + n)
        order = line // 2
        # per order (the same for both its lines): a customer and a day, spread by hashing
        cust = (order * 2654435761 + 12345) % n_customers
        day = start + ((order * 40503) % (span // 86400)) * 86400
        qty = rng.integers(1, 20, n).astype(float)
        status = rng.choice(np.array(["completed", "cancelled", "returned"]), n,
                            p=[0.95, 0.03, 0.02])
        table = pa.table({
            "order_id": pa.array(np.char.add("O", order.astype(str))),
            "line_no": pa.array(line % 2 + 1),
            "customer_id": pa.array(np.char.add("C", cust.astype(str))),
            "product_id": pa.array(np.char.add("P", rng.integers(1, 500, n).astype(str))),
            "order_date": pa.array(day.astype("datetime64[us]")),
            "quantity": pa.array(qty),
            "amount": pa.array((qty * rng.uniform(5, 50, n)).round(2)),
            "promised_date": pa.array((day + 7 * 86400).astype("datetime64[us]")),
            "delivered_date": pa.array(
                (day + rng.integers(4, 11, n) * 86400).astype("datetime64[us]")),
            "status": pa.array(status),
        })
        if writer is None:
            writer = pq.ParquetWriter(folder / "orders.parquet", table.schema)
        writer.write_table(table, row_group_size=CHUNK)
    writer.close()
    rng = np.random.default_rng([seed, 7])
    ids = np.arange(n_customers)
    pq.write_table(pa.table({
        "customer_id": pa.array(np.char.add("C", ids.astype(str))),
        "created_at": pa.array((np.datetime64("2020-01-01", "s") + rng.integers(
            0, 3 * 365, n_customers) * 86400).astype("datetime64[us]")),
        "region": pa.array(rng.choice(REGIONS, n_customers)),
        "industry": pa.array(rng.choice(INDUSTRIES, n_customers)),
        "tier": pa.array(rng.choice(TIERS, n_customers)),
    }), folder / "customers.parquet")


def generate_series(path: Path, n: int, seed: int = 0, weeks: int = 156) -> None:
    """A long weekly table (``unique_id``, ``ds``, ``y``, ``category``) of ``n`` series, one
    Parquet file, written in chunks of 10,000 series."""
    end = np.datetime64("2024-12-30")  # a Monday
    writer = None
    for first in range(0, n, 10_000):
        rng = np.random.default_rng([seed, first])
        k = min(10_000, n - first)
        cat = rng.integers(0, 10, k)
        u = rng.random(k)
        length = np.where(u < 0.7, weeks, np.where(u < 0.9, rng.integers(6, 104, k),
                                                   rng.integers(1, 6, k)))
        level = rng.lognormal(2.0, 1.0, k) * np.where(rng.random(k) < 0.1, 0.05, 1.0)
        t = np.arange(weeks)
        phase = cat[:, None] * 2 * np.pi / 10
        season = 1 + 0.4 * np.sin(2 * np.pi * t[None] / 52 + phase)
        trend = 1 + rng.normal(0, 0.002, k)[:, None] * t[None]
        y = rng.poisson(np.clip(level[:, None] * season * trend, 0, None)).astype(float)
        keep = t[None] >= weeks - length[:, None]
        rows, cols = np.nonzero(keep)
        ids = np.char.add("S", (first + np.arange(k)).astype(str))
        table = pa.table({
            "unique_id": pa.array(ids[rows]),
            "ds": pa.array((end - (weeks - 1 - cols) * np.timedelta64(7, "D"))
                           .astype("datetime64[us]")),
            "y": pa.array(y[rows, cols]),
            "category": pa.array(np.char.add("c", cat.astype(str))[rows]),
        })
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    writer.close()


def run_forecast(engine: str, data: Path, out: Path) -> dict:
    """``forecast --series data --horizon 12`` (every default candidate) on one engine."""
    from forecasting.settings import DEFAULT_HORIZON

    t0 = time.perf_counter()
    if engine == "local":
        from forecasting.demand.pipeline import forecast
        from forecasting.io import read_series, write_table

        history = read_series(data)
        t1 = time.perf_counter()
        res = forecast(history, DEFAULT_HORIZON, freq="W", progress=False)
        write_table(res.table, out)
    else:
        from forecasting.engines import spark_demand
        from forecasting.engines.spark_data import spark_session

        spark = spark_session("local[2]", **{"spark.driver.memory": "2g",
                                             "spark.ui.enabled": "false",
                                             "spark.sql.shuffle.partitions": "8"})
        frame = spark_demand.read_series(data, spark)
        t1 = time.perf_counter()
        res = spark_demand.forecast(frame, DEFAULT_HORIZON, freq="W")
        spark_demand.write_forecasts(res.table, out, spark)
    t2 = time.perf_counter()
    return {"read_validate_s": t1 - t0, "compute_write_s": t2 - t1, "total_s": t2 - t0,
            "rows": len(res.table), "chosen": "+".join(res.model.choice.members())}


def max_diff(a: pd.DataFrame, b: pd.DataFrame, key: list[str]) -> dict:
    """Rows and labels equal? and the max abs difference of each number column."""
    a = a.sort_values(key, kind="stable").reset_index(drop=True)
    b = b.sort_values(key, kind="stable").reset_index(drop=True)
    out = {"rows": len(a), "same_rows": len(a) == len(b) and bool(
        (a[key].astype(str).values == b[key].astype(str).values).all())}
    diffs, labels = {}, True
    for c in a.columns:
        if c in key or c not in b:
            continue
        x, y = a[c], b[c]
        if pd.api.types.is_numeric_dtype(x) and not pd.api.types.is_bool_dtype(x):
            d = np.abs(x.to_numpy(float) - pd.to_numeric(y, errors="coerce").to_numpy(float))
            both_nan = np.isnan(x.to_numpy(float)) & np.isnan(
                pd.to_numeric(y, errors="coerce").to_numpy(float))
            d = np.where(both_nan, 0.0, d)
            diffs[c] = float(np.nanmax(d)) if len(d) and not np.isnan(d).all() else 0.0
            if np.isnan(d).any():
                diffs[c] = float("inf")
        elif not pd.api.types.is_datetime64_any_dtype(x):
            labels &= bool((x.astype(str).where(x.notna(), "") ==
                            y.astype(str).where(y.notna(), "")).all())
    worst = max(diffs, key=diffs.get) if diffs else "-"
    return out | {"labels_equal": labels, "max_abs_diff": diffs.get(worst, 0.0),
                  "worst_column": worst, "columns": len(diffs)}


def train_model(path: Path) -> None:
    """A churn model of the sample, pickled (LightGBM defaults: reasons from contributions)."""
    from forecasting.churn.config import ChurnConfig
    from forecasting.churn.pipeline import train_time_based
    from forecasting.sample import generate as sample

    result = train_time_based(sample(customers=2000, seed=0),
                              ChurnConfig(n_cutoffs=3, candidates=("lgbm_default",)))
    result.model.version = "bench"
    path.write_bytes(pickle.dumps(result.model))


# --- one run (the child process) -------------------------------------------------------------
def run_one(engine: str, task: str, data: Path, model_path: Path, out: Path) -> dict:
    if task == "forecast":
        return run_forecast(engine, data, out)
    t0 = time.perf_counter()
    model = pickle.loads(model_path.read_bytes()) if task == "score" else None
    if engine == "local":
        from forecasting.churn.score import score_customers
        from forecasting.features import build_features
        from forecasting.io import read_dataset, write_table

        dataset = read_dataset(data, now=pd.Timestamp(NOW))
        t1 = time.perf_counter()
        if task == "features":
            result = build_features(dataset, AS_OF).reset_index()
        else:
            result = score_customers(dataset, AS_OF, model=model)
            result["reasons"] = [json.dumps(r) for r in result["reasons"]]
        write_table(result, out)
        rows = len(result)
    else:
        from forecasting.engines import spark as engine_mod
        from forecasting.engines.spark_data import read_tables, spark_session

        spark = spark_session("local[2]", **{"spark.driver.memory": "2g",
                                             "spark.ui.enabled": "false",
                                             "spark.sql.shuffle.partitions": "8"})
        tables = read_tables(data, spark, now=pd.Timestamp(NOW))
        t1 = time.perf_counter()
        result = (engine_mod.features(tables, AS_OF) if task == "features"
                  else engine_mod.score(tables, AS_OF, model))
        engine_mod.write(result, out)
        rows = spark.read.parquet(str(out)).count()
    t2 = time.perf_counter()
    return {"read_validate_s": t1 - t0, "compute_write_s": t2 - t1, "total_s": t2 - t0,
            "rows": rows}


def measure(engine: str, task: str, data: Path, model: Path, cap_gb: float,
            out: Path | None = None) -> dict:
    """Run one child under the cap; its figures, peak RSS of the process tree and status."""
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "result.json"
        cmd = [sys.executable, __file__, "--child", engine, task, str(data), str(model),
               str(out or Path(tmp) / "out.parquet"), str(result)]
        t = time.perf_counter()
        log_file = open(Path(tmp) / "stderr.txt", "w+")  # a file: a full pipe would block
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log_file, text=True)
        parent = psutil.Process(proc.pid)
        peak, status = 0, "ok"
        while proc.poll() is None:
            try:
                tree = [parent, *parent.children(recursive=True)]
                rss = sum(p.memory_info().rss for p in tree if p.is_running())
            except psutil.Error:
                rss = 0
            peak = max(peak, rss)
            if rss > cap_gb * 2 ** 30:
                status = f"over cap ({cap_gb:g} GB)"
                for p in reversed(tree):
                    try:
                        p.kill()
                    except psutil.Error:
                        pass
                break
            time.sleep(0.2)
        proc.wait()
        wall = time.perf_counter() - t
        log_file.seek(0)
        err = log_file.read()
        log_file.close()
        out = {"engine": engine, "task": task, "wall_s": wall, "peak_gb": peak / 2 ** 30,
               "status": status}
        if status == "ok" and proc.returncode == 0 and result.exists():
            out |= json.loads(result.read_text())
        elif status == "ok":
            out["status"] = f"failed ({proc.returncode}): {err.strip().splitlines()[-1:]}"
        return out


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        engine, task, data, model, out, result = sys.argv[2:8]
        logging.basicConfig(level=logging.WARNING)
        figures = run_one(engine, task, Path(data), Path(model), Path(out))
        Path(result).write_text(json.dumps(figures))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,5,20", help="millions of order lines")
    parser.add_argument("--cap-gb", type=float, default=6.0, help="memory cap per run")
    parser.add_argument("--dir", default=None, help="where the data sets go (default: temp)")
    parser.add_argument("--engines", default="local,spark")
    parser.add_argument("--tasks", default="features,score")
    parser.add_argument("--report", default=None, help="append the table to this file")
    parser.add_argument("--forecast-series", default=None, metavar="N,N",
                        help="instead: forecast this many weekly series per engine")
    parser.add_argument("--retail", action="store_true",
                        help="instead: Online Retail through both engines, max differences")
    parser.add_argument("--retail-forecast", action="store_true",
                        help="with --retail: the weekly product forecasts too")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    root = Path(args.dir or tempfile.mkdtemp(prefix="bench_spark_"))
    if args.retail:
        return bench_retail(root, args.retail_forecast, args.report)
    if args.forecast_series:
        return bench_forecast(root, [int(n) for n in args.forecast_series.split(",")],
                              args.engines.split(","), args.cap_gb, args.report)
    model = root / "model.pkl"
    if not model.exists():
        train_model(model)
    rows = []
    for size in [float(s) for s in args.sizes.split(",")]:
        data = root / f"lines_{size:g}m"
        if not (data / "customers.parquet").exists():
            t = time.perf_counter()
            generate(data, int(size * 1_000_000))
            log.info("generated %gM lines in %.0f s", size, time.perf_counter() - t)
        for task in args.tasks.split(","):
            for engine in args.engines.split(","):
                r = measure(engine, task, data, model, args.cap_gb) | {"lines_m": size}
                log.info("%s", r)
                rows.append(r)
                table = pd.DataFrame(rows)
                cols = [c for c in ("lines_m", "task", "engine", "status", "rows",
                                    "read_validate_s", "compute_write_s", "total_s",
                                    "wall_s", "peak_gb") if c in table]
                text = table[cols].to_string(index=False, float_format=lambda v: f"{v:.1f}")
                if args.report:
                    Path(args.report).write_text(text + "\n")
    print(text)


def bench_forecast(root: Path, sizes: list[int], engines: list[str], cap_gb: float,
                   report: str | None) -> None:
    """Forecast ``sizes`` weekly series per engine (children under the cap); compare."""
    rows = []
    for n in sizes:
        data = root / f"series_{n}.parquet"
        if not data.exists():
            generate_series(data, n)
        outs = {}
        for engine in engines:
            outs[engine] = root / f"forecast_{n}_{engine}.parquet"
            r = measure(engine, "forecast", data, data, cap_gb, outs[engine]) | {"series": n}
            log.info("%s", r)
            rows.append(r)
        if all(o.exists() for o in outs.values()) and len(outs) == 2:
            d = max_diff(pd.read_parquet(outs["local"]), pd.read_parquet(outs["spark"]),
                         ["unique_id", "ds"])
            log.info("local vs spark, %d series: %s", n, d)
            rows[-1] |= {"same_rows": d["same_rows"], "labels_equal": d["labels_equal"],
                         "max_abs_diff": d["max_abs_diff"]}
        table = pd.DataFrame(rows)
        cols = [c for c in ("series", "engine", "status", "rows", "read_validate_s",
                            "compute_write_s", "total_s", "wall_s", "peak_gb", "chosen",
                            "same_rows", "labels_equal", "max_abs_diff") if c in table]
        text = table[cols].to_string(index=False, float_format=lambda v: f"{v:.3g}")
        if report:
            Path(report).write_text(text + "\n")
    print(text)


def bench_retail(root: Path, with_forecast: bool, report: str | None) -> None:
    """Online Retail through both engines: features, scores (and forecasts): max abs
    differences, rows and labels equal."""
    from forecasting.churn.config import ChurnConfig
    from forecasting.churn.pipeline import train_time_based
    from forecasting.churn.score import score_customers
    from forecasting.demand.pipeline import forecast
    from forecasting.demand.series import orders_to_series
    from forecasting.engines import spark as engine
    from forecasting.engines import spark_demand
    from forecasting.engines.spark_data import read_tables, spark_session
    from forecasting.features import build_features
    from forecasting.importers.online_retail import convert
    from forecasting.io import read_dataset
    from forecasting.sample import write
    from forecasting.settings import DEFAULT_HORIZON

    src = Path(__file__).resolve().parents[1] / "../shared/data/online_retail"
    src = src if src.exists() else Path("/work/shared/data/online_retail")
    if not src.exists():
        sys.exit("Online Retail is not in ../shared/data or /work/shared/data")
    folder = root / "online_retail"
    if not (folder / "orders.parquet").exists():
        write(convert(pd.read_parquet(src / "online_retail.parquet"))[0], folder, "parquet")
    now = pd.Timestamp(NOW)
    as_of = "2011-09-10"  # the product spec's cutoff for Online Retail
    data = read_dataset(folder, now=now)
    spark = spark_session("local[2]", **{"spark.driver.memory": "3g",
                                         "spark.ui.enabled": "false",
                                         "spark.sql.shuffle.partitions": "8"})
    tables = read_tables(folder, spark, now=now)
    rows, times = [], {}

    def timed(label, fn):
        t = time.perf_counter()
        out = fn()
        times[label] = time.perf_counter() - t
        return out

    local = timed("features local", lambda: build_features(data, as_of).reset_index())
    remote = timed("features spark", lambda: engine.to_pandas(engine.features(tables, as_of)))
    rows.append({"what": "features", **max_diff(local, remote, ["customer_id"]),
                 "local_s": times["features local"], "spark_s": times["features spark"]})
    model = train_time_based(data, ChurnConfig(n_cutoffs=2, candidates=("lgbm_default",)),
                             ).model
    model.version = "bench"
    local = timed("scores local", lambda: score_customers(data, as_of, model=model))
    local["reasons"] = [json.dumps(r) for r in local["reasons"]]
    remote = timed("scores spark", lambda: engine.to_pandas(engine.score(tables, as_of, model)))
    rows.append({"what": "churn scores", **max_diff(local, remote, ["customer_id"]),
                 "local_s": times["scores local"], "spark_s": times["scores spark"]})
    if with_forecast:
        series = orders_to_series(data.orders, freq="W", products=data.products)
        local = timed("fc local", lambda: forecast(series, DEFAULT_HORIZON, freq="W",
                                                   progress=False).table)
        remote = timed("fc spark", lambda: spark_demand.forecast(spark_demand.from_pandas(
            series, spark), DEFAULT_HORIZON, freq="W").table)
        rows.append({"what": f"weekly forecasts h={DEFAULT_HORIZON}",
                     **max_diff(local, remote, ["unique_id", "ds"]),
                     "local_s": times["fc local"], "spark_s": times["fc spark"]})
    text = pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3g}")
    if report:
        Path(report).write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
