"""Baselines every candidate must beat: seasonal naive and the historic mean.

Example:
    >>> import numpy as np, pandas as pd
    >>> from forecasting.demand.panel import Panel
    >>> p = Panel(np.array(["a"]), np.array([[1.0, 2.0, 3.0, 4.0]]),
    ...           np.array(["2024-04-01"], dtype="datetime64[ns]"), "QS")
    >>> SeasonalNaive().forecast(p, 6).tolist()
    [[1.0, 2.0, 3.0, 4.0, 1.0, 2.0]]
    >>> Mean().forecast(p, 2).tolist()
    [[2.5, 2.5]]
"""

from __future__ import annotations

import numpy as np

from forecasting.demand.models.base import Forecaster, nonneg
from forecasting.demand.panel import Panel


class SeasonalNaive(Forecaster):
    """Repeats the last observed season; with ``season_length=None`` the panel's own
    (7 for daily, 52 weekly, 12 monthly); series shorter than a season repeat their last
    value."""

    name = "seasonal_naive"

    def __init__(self, season_length: int | None = None):
        self.season_length = season_length

    def fit(self, panel: Panel) -> SeasonalNaive:
        m = self.season_length or panel.season_length
        m = max(1, min(m, panel.T))
        last = panel.y[:, -m:].copy()
        # series shorter than m: fall back to their last value
        short = np.isnan(last).any(axis=1)
        if short.any():
            last[short] = panel.y[short, -1:][:, [0] * m]
        self.season_ = last
        return self

    def predict(self, h: int) -> np.ndarray:
        m = self.season_.shape[1]
        idx = np.arange(h) % m
        return nonneg(self.season_[:, idx])


class Mean(Forecaster):
    """The mean of the last ``window`` observations (all history when None)."""

    name = "mean"

    def __init__(self, window: int | None = None):
        self.window = window

    def fit(self, panel: Panel) -> Mean:
        y = panel.y if self.window is None else panel.y[:, -self.window:]
        self.level_ = np.nanmean(y, axis=1)
        return self

    def predict(self, h: int) -> np.ndarray:
        return nonneg(np.repeat(self.level_[:, None], h, axis=1))
