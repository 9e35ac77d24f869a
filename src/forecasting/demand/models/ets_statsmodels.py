"""statsmodels ETS, one fit per series and form, the form chosen by AICc.

The reference implementation of :class:`~forecasting.demand.models.smoothing.AutoETS`:
trend none / additive / damped x season none / additive / multiplicative (positive series
with at least two seasons), additive errors, parameters by maximum likelihood. About 9 fits
per series, so it is not in the default candidate set (``--models ets_statsmodels`` to use
it); ``benchmarks/bench_ets.py`` compares it with the vectorised AutoETS on speed and
accuracy.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np

from forecasting.demand.models.base import Forecaster, nonneg
from forecasting.demand.panel import Panel

log = logging.getLogger(__name__)


def _fit_one(y: np.ndarray, m: int, h: int) -> tuple[np.ndarray, str]:
    # heavy: statsmodels' ETS loads only when this candidate fits
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    forms = [(None, False), ("add", False), ("add", True)]
    seasons = [None]
    if m > 1 and len(y) >= 2 * m:
        seasons.append("add")
        if (y > 0).all():
            seasons.append("mul")
    best, best_f, best_name = np.inf, None, "naive"
    for trend, damped in forms:
        for season in seasons:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    res = ETSModel(y, error="add", trend=trend, damped_trend=damped,
                                   seasonal=season, seasonal_periods=m if season else None,
                                   initialization_method="estimated").fit(disp=False,
                                                                          maxiter=200)
                crit = res.aicc
                if np.isfinite(crit) and crit < best:
                    f = np.asarray(res.forecast(h))
                    if np.isfinite(f).all():
                        best, best_f = crit, f
                        best_name = f"A{'' if not trend else 'Ad' if damped else 'A'}"\
                                    f"{'' if not season else season[0].upper()}"
            except (ValueError, np.linalg.LinAlgError, ZeroDivisionError) as exc:
                log.debug("ETS form %s/%s/%s failed: %s", trend, damped, season, exc)
    if best_f is None:
        best_f = np.repeat(y[-1], h)
    return best_f, best_name


class StatsmodelsETS(Forecaster):
    """Per-series statsmodels ETSModel with the form chosen by AICc."""

    name = "ets_statsmodels"

    def __init__(self, season_length: int | None = None):
        self.season_length = season_length

    def fit(self, panel: Panel) -> StatsmodelsETS:
        self.panel_ = panel
        self.m_ = self.season_length or panel.season_length
        self.cache_: dict[int, np.ndarray] = {}
        return self

    def predict(self, h: int) -> np.ndarray:
        if h not in self.cache_:
            out = np.empty((self.panel_.n, h))
            forms = []
            for i in range(self.panel_.n):
                y = self.panel_.y[i][~np.isnan(self.panel_.y[i])]
                out[i], name = _fit_one(y, self.m_, h)
                forms.append(name)
            self.forms_ = np.array(forms)
            self.cache_[h] = out
        return nonneg(self.cache_[h])
