"""Benchmark: sample generation, the churn signal it carries, and the Online Retail import.

Prints three tables, each with its baseline measured in the same run:

1. generation time and rows for the default size and for ``--customers`` (about 1M order
   lines at 50,000), beside the time to only write the same tables to Parquet;
2. churn signal in the default sample: time-based holdout ROC AUC (train on three cutoffs,
   score a later one, 90-day horizon) of LightGBM on recency alone (the baseline), on
   RFM and order-rhythm features, and on all features (complaints, surveys, fulfilment);
3. Online Retail import time beside the time to only read the raw file (skipped when
   ../shared/data is absent).

    nice -n 10 .venv/bin/python benchmarks/bench_sample_import.py [--customers 50000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

from forecasting.sample import generate, write

RAW = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "online_retail" / \
    "online_retail.parquet"
RFM = ["days_since_last_order", "orders_30d", "orders_90d", "orders_365d", "amount_30d",
       "amount_90d", "amount_365d", "avg_order_value_365d", "tenure_days",
       "order_gap_mean_days", "order_gap_std_days", "order_overdue_days", "amount_trend_90d",
       "distinct_products_365d"]


def _timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def bench_generate(sizes: list[int]) -> pd.DataFrame:
    rows = []
    for n in sizes:
        gen_s, data = _timed(lambda: generate(customers=n, seed=0))
        with tempfile.TemporaryDirectory() as d:
            write_s, _ = _timed(lambda: write(data, d, fmt="parquet"))
        t = data.tables()
        rows.append({"customers": n, "generate_s": round(gen_s, 2),
                     "write_parquet_s (baseline)": round(write_s, 2),
                     "order_lines": len(t["orders"]), "complaints": len(t["complaints"]),
                     "surveys": len(t["surveys"])})
    return pd.DataFrame(rows)


def bench_churn_signal(seed: int = 0) -> pd.DataFrame:
    import lightgbm as lgb
    from sklearn.metrics import roc_auc_score

    from forecasting.features import build_features
    from forecasting.labels import churn_labels

    data = generate(seed=seed)

    def frame(cut):
        X = build_features(data, cut)
        y = churn_labels(data.orders, cut, horizon_days=90)
        return X.reindex(y.index).select_dtypes("number"), y

    train = [frame(pd.Timestamp("2024-03-01") + pd.Timedelta(days=30 * k)) for k in range(3)]
    Xtr, ytr = pd.concat([t[0] for t in train]), pd.concat([t[1] for t in train])
    Xte, yte = frame(pd.Timestamp("2024-09-30"))
    year = churn_labels(data.orders, pd.Timestamp("2023-12-31"), horizon_days=365)
    rows = []
    for name, cols in (("recency alone (baseline)", ["days_since_last_order"]),
                       ("RFM + order rhythm", RFM), ("all features", list(Xte.columns))):
        m = lgb.LGBMClassifier(n_estimators=300, learning_rate=0.03, num_leaves=15,
                               min_child_samples=30, verbose=-1, random_state=0)
        m.fit(Xtr[cols], ytr)
        rows.append({"seed": seed, "features": name, "n_features": len(cols),
                     "holdout_roc_auc": round(roc_auc_score(yte, m.predict_proba(Xte[cols])[:, 1]), 3),
                     "holdout_churn_rate": round(float(yte.mean()), 3),
                     "churn_365d_of_2023_actives": round(float(year.mean()), 3)})
    return pd.DataFrame(rows)


def bench_import() -> pd.DataFrame | None:
    if not RAW.exists():
        print(f"skipped Online Retail import: {RAW} is absent")
        return None
    from forecasting.importers.online_retail import convert
    from forecasting.io import read_table

    read_s, raw = _timed(lambda: read_table(RAW))
    conv_s, (data, report) = _timed(lambda: convert(raw))
    return pd.DataFrame([{"read_raw_s (baseline)": round(read_s, 2), "convert_s": round(conv_s, 2),
                          "lines_read": report.lines_read, "invoices": report.invoices,
                          "customers": report.customers, "converted": report.converted,
                          "set_aside": sum(report.set_aside.values())}])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--customers", type=int, default=50_000)
    p.add_argument("--seeds", type=int, default=2, help="seeds for the churn-signal table")
    args = p.parse_args()
    pd.set_option("display.width", 200)
    print("== sample generation ==")
    print(bench_generate([2000, args.customers]).to_string(index=False))
    print("\n== churn signal in the sample (time-based holdout, 90-day horizon) ==")
    print(pd.concat([bench_churn_signal(s) for s in range(args.seeds)]).to_string(index=False))
    print("\n== Online Retail import ==")
    table = bench_import()
    if table is not None:
        print(table.to_string(index=False))


if __name__ == "__main__":
    main()
