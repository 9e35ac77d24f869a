"""Customer analytics on Online Retail: run times, and how good the RFM-rule churn fallback is.

Usage: nice -n 10 .venv/bin/python benchmarks/bench_analytics.py [--data ../shared/data]

1. Wall time of ``segments`` (as of 2011-12-09), ``kpi_table`` (monthly; overall, segment and
   customer levels) and ``followup_list`` on the converted Online Retail data set.
2. The churn probability used when no champion model exists (historical churn rate per RFM
   segment, :func:`forecasting.analytics.segments.rule_churn_probability`) scored against the real churn
   labels at cutoff 2011-09-10 (90-day horizon), beside the baseline "recency alone" (the
   product spec's anchor: ROC AUC 0.68), measured in the same run on the same customers.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, roc_auc_score

from forecasting.analytics.followup import followup_list
from forecasting.importers.online_retail import convert
from forecasting.analytics.kpis import kpi_table
from forecasting.labels import churn_labels
from forecasting.analytics.segments import SegmentConfig, rfm_segments, rule_churn_probability, segments

CUTOFF, HORIZON = "2011-09-10", 90


def timed(fn, *args, **kwargs):
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[1] / ".." / "shared"
                                          / "data"))
    args = ap.parse_args()
    raw = pd.read_parquet(Path(args.data) / "online_retail" / "online_retail.parquet")
    data, _ = convert(raw)
    print(f"Online Retail: {len(data.orders):,} order lines, "
          f"{data.orders['customer_id'].nunique():,} customers\n")

    seg, t_seg = timed(segments, data, "2011-12-09")
    kpis, t_kpi = timed(kpi_table, data)
    fol, t_fol = timed(followup_list, data, "2011-12-09", seg=seg)
    print("| step | rows | seconds |")
    print("|---|---:|---:|")
    print(f"| segments as of 2011-12-09 | {len(seg):,} | {t_seg:.2f} |")
    print(f"| kpis monthly, all levels | {len(kpis):,} | {t_kpi:.2f} |")
    print(f"| followup (segments given) | {len(fol):,} | {t_fol:.2f} |\n")

    cfg = SegmentConfig(horizon_days=HORIZON)
    y = churn_labels(data.orders, CUTOFF, horizon_days=HORIZON, lookback_days=365)
    rfm = rfm_segments(data.orders, CUTOFF).reindex(y.index)
    p_rules = rule_churn_probability(rfm, data.orders, CUTOFF, cfg)
    recency = rfm["days_since_last_order"].astype(float)
    base_rate = np.full(len(y), y.mean())
    print(f"Churn at cutoff {CUTOFF}, horizon {HORIZON} d: {len(y):,} active customers, "
          f"churn rate {y.mean():.3f}\n")
    print("| churn score | ROC AUC | Brier |")
    print("|---|---:|---:|")
    print(f"| baseline: recency alone | {roc_auc_score(y, recency):.3f} | - |")
    print(f"| baseline: overall churn rate | 0.500 | {brier_score_loss(y, base_rate):.4f} |")
    print(f"| RFM rules (churn rate by segment) | {roc_auc_score(y, p_rules):.3f} | "
          f"{brier_score_loss(y, p_rules):.4f} |")


if __name__ == "__main__":
    main()
