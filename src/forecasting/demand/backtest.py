"""Rolling-origin backtests: refit every candidate at each origin, forecast ``h`` periods,
keep the errors.

Origins are the last ``n_windows`` cut points spaced ``step`` periods apart (``step``
defaults to ``h``, so windows do not overlap): window ``w`` (0 = oldest) hides the last
``h + (n_windows - 1 - w) * step`` periods and forecasts the next ``h``. A model never sees
the periods it is scored on, and the window of the final forecast is never used.
Series with less than ``min_length`` observations before an origin (default 1) are left out
of that window (NaN). Each series is classed ``full``, ``short`` or ``new`` by its length at
each origin (:mod:`forecasting.demand.history`), so that models are chosen and intervals
calibrated on cells of series of the same kind.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from forecasting.demand.history import classify
from forecasting.demand.intervals import recent_level
from forecasting.demand.metrics import mase_scale, noise_scale
from forecasting.demand.models.base import Forecaster
from forecasting.demand.models.intermittent import is_intermittent
from forecasting.demand.panel import Panel
from forecasting.errors import ForecastingError

log = logging.getLogger(__name__)


@dataclass
class Backtest:
    """Forecasts and actuals per window: arrays of shape (windows, series, h)."""

    h: int
    actual: np.ndarray
    forecasts: dict[str, np.ndarray]
    scale: np.ndarray          # (windows, series) MASE scale at each origin
    noise: np.ndarray          # (windows, series) naive (lag-1) MAE at each origin
    intermittent: np.ndarray   # (windows, series) bool, classification at each origin
    level: np.ndarray          # (windows, series) mean |y| over the last season at the origin
    origins: list[int]         # periods hidden at each window
    history: np.ndarray | None = None  # (windows, series) 'full'/'short'/'new' at each origin

    def masked(self, cells: np.ndarray) -> Backtest:
        """The same backtest with the actuals outside ``cells`` (windows, series) hidden
        (NaN): metrics and interval calibration then see only those cells."""
        actual = np.where(cells[..., None], self.actual, np.nan)
        return Backtest(self.h, actual, self.forecasts, self.scale, self.noise,
                        self.intermittent & cells, self.level, self.origins, self.history)


def backtest(panel: Panel, factories: dict[str, Callable[[], Forecaster]], h: int,
             n_windows: int = 2, step: int | None = None, min_length: int | None = None,
             progress: bool = True) -> Backtest:
    step = step or h
    W = n_windows
    actual = np.full((W, panel.n, h), np.nan)
    fc = {name: np.full((W, panel.n, h), np.nan) for name in factories}
    scale = np.full((W, panel.n), np.nan)
    noise = np.full((W, panel.n), np.nan)
    inter = np.zeros((W, panel.n), bool)
    level = np.full((W, panel.n), np.nan)
    hist = np.full((W, panel.n), "", dtype=object)
    cuts = [h + (W - 1 - w) * step for w in range(W)]
    if cuts[0] >= panel.T:
        raise ForecastingError(
            f"history of {panel.T} periods is too short for {W} backtest window(s) of {h} "
            f"periods: give at least {cuts[0] + 1} periods of history, a shorter --horizon or "
            f"fewer --windows")
    need = min_length or 1
    bar = tqdm(total=W * len(factories), desc="backtest", disable=not progress, leave=False)
    for w, cut in enumerate(cuts):
        past = panel.truncate(cut)
        ok = past.lengths >= need
        rows = np.flatnonzero(ok)
        if not len(rows):
            bar.update(len(factories))
            continue
        sub = past.subset(rows)
        actual[w, rows] = panel.y[rows, panel.T - cut: panel.T - cut + h]
        scale[w, rows] = mase_scale(sub.y, sub.season_length)
        noise[w, rows] = noise_scale(sub.y)
        inter[w, rows] = is_intermittent(sub.y)
        level[w, rows] = recent_level(sub.y, sub.season_length)
        hist[w, rows] = classify(sub.lengths, sub.season_length)
        for name, make in factories.items():
            fc[name][w, rows] = make().forecast(sub, h)
            bar.update(1)
    bar.close()
    return Backtest(h, actual, fc, scale, noise, inter, level, cuts, hist.astype(str))
