"""statsmodels ETS (per-series fits) vs the vectorised AutoETS: speed and accuracy on a
sample of M3 monthly series (official split, h = 18), seasonal naive in the same run.

    nice -n 10 .venv/bin/python benchmarks/bench_ets.py [N_SERIES]
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from bench_demand import m3_monthly
from forecasting.demand import metrics
from forecasting.demand.models.baselines import SeasonalNaive
from forecasting.demand.models.ets_statsmodels import StatsmodelsETS
from forecasting.demand.models.smoothing import AutoETS, Theta
from forecasting.demand.panel import Panel


def main(n: int = 200) -> int:
    train, test = m3_monthly()
    ids = sorted(train.unique_id.unique())[:: max(1, 1428 // n)][:n]
    panel = Panel.from_long(train[train.unique_id.isin(ids)], "MS")
    y = test[test.unique_id.isin(ids)].sort_values(["unique_id", "ds"]).y.to_numpy()
    y = y.reshape(panel.n, 18)
    scale = metrics.mase_scale(panel.y, 12)
    rows = []
    for model in (SeasonalNaive(), AutoETS(), StatsmodelsETS(), Theta()):
        t0 = time.time()
        f = model.forecast(panel, 18)
        rows.append({"model": model.name, "series": panel.n, "smape": metrics.smape(y, f),
                     "mase": metrics.mase(y, f, scale), "seconds": time.time() - t0})
    print(pd.DataFrame(rows).round(3).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200))
