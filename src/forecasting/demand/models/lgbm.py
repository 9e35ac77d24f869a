"""A global LightGBM forecaster: one model learns from every series.

Multi-step strategy: **direct**, one model with the horizon step ``k`` as a feature. A row is
(series, origin ``o``, step ``k``); its features use observations up to ``o`` only and its
target is ``y[o + k] / scale_o``, where ``scale_o`` is the mean level over the year before the
origin. Forecasts never feed back into features (no recursion), so the forecast for step
``k`` is the same whatever the horizon asked for; the contract tests check that.

Features (all relative to ``scale_o``, so series of any size share one model):

* the last ``n_lags`` observations; the mean of the last season and of the last year; the
  ratio of the last year's mean to the year before (trend); the spread of the last year
* the value one year (and, for daily data, one week) before the target date, and the mean
  of its three neighbours (a smoothed seasonal lag)
* the step ``k``; calendar of the target date (month; week of year; weekday, day of month
  and day of year for daily data); month of the origin
* ``log1p(scale_o)`` and the product attributes of the panel (categorical)

Target scaling makes a multiplicative panel (store x item x weekday x month x trend) an
additive problem for the trees; ``objective`` is LightGBM's (``l2`` default, ``l1`` for a
median, ``tweedie`` for counts).
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd

from forecasting.demand import freq as freqs
from forecasting.demand.models.base import Forecaster, nonneg
from forecasting.demand.panel import Panel, period_dates

log = logging.getLogger(__name__)

class LightGBMDirect(Forecaster):
    """Global direct multi-step LightGBM (see the module docstring)."""

    name = "lightgbm"
    is_global = True
    pooled = True

    def __init__(self, horizon: int | None = None, n_lags: int | None = None,
                 objective: str = "l2", n_estimators: int = 400, learning_rate: float = 0.05,
                 num_leaves: int = 63, min_child_samples: int = 50, max_rows: int = 500_000,
                 n_jobs: int = 2, seed: int = 0, exclude: tuple[str, ...] = ()):
        self.horizon = horizon
        self.exclude = tuple(exclude)
        self.n_lags = n_lags
        self.objective = objective
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.max_rows = max_rows
        self.n_jobs = n_jobs
        self.seed = seed

    # -- features -----------------------------------------------------------------------
    def _setup(self, panel: Panel) -> None:
        self.m_ = panel.season_length
        self.year_ = freqs.long_season_length(panel.freq)
        self.lags_ = self.n_lags or int(min(max(2 * self.m_, 14), 28 if self.m_ == 7 else 52))
        self.pad_ = 2 * self.year_ + self.lags_ + 2

    def _features(self, panel: Panel, yp: np.ndarray, rows: np.ndarray, origin: np.ndarray,
                  step: np.ndarray) -> pd.DataFrame:
        """Feature table for (series row, origin column, step); ``yp`` is left-padded."""
        with warnings.catch_warnings():  # all-NaN windows (short history) give NaN features
            warnings.simplefilter("ignore", RuntimeWarning)
            return self._features_inner(panel, yp, rows, origin, step)

    def _features_inner(self, panel, yp, rows, origin, step) -> pd.DataFrame:
        p, Y1 = self.pad_, self.year_
        o = origin + p

        def at(offset):
            return yp[rows, o + offset]

        c1, c2, cn = self._cums(yp)

        def window_stats(width, end=0):
            """Mean and std of yp[o+end-width+1 .. o+end] (NaN-aware, via cumulative sums)."""
            hi = o + end + 1
            lo = np.maximum(hi - width, 0)
            cnt = cn[rows, hi] - cn[rows, lo]
            s1 = c1[rows, hi] - c1[rows, lo]
            s2 = c2[rows, hi] - c2[rows, lo]
            mean = np.where(cnt > 0, s1 / np.maximum(cnt, 1), np.nan)
            var = np.where(cnt > 1, s2 / np.maximum(cnt, 1) - mean ** 2, np.nan)
            return mean, np.sqrt(np.clip(var, 0, None))

        with np.errstate(all="ignore"):
            year_mean, year_sd = window_stats(Y1)
            prev_year, _ = window_stats(Y1, end=-Y1)
            scale = np.where(np.isfinite(year_mean) & (year_mean > 0), year_mean, 1.0)
            cols: dict[str, np.ndarray] = {"step": step.astype(float)}
            for j in range(self.lags_):
                cols[f"lag_{j}"] = at(-j) / scale
            cols["mean_season"] = window_stats(max(self.m_, 1))[0] / scale
            cols["mean_year"] = year_mean / scale
            cols["trend_year"] = year_mean / prev_year
            cols["sd_year"] = year_sd / scale
            back = Y1 * np.ceil(step / Y1).astype(int)
            tgt = o + step
            cols["ylag_year"] = yp[rows, tgt - back] / scale
            nb = np.stack([yp[rows, np.minimum(tgt - back + d, o)] for d in (-1, 0, 1)], 1)
            cols["ylag_year_smooth"] = np.nanmean(nb, axis=1) / scale
            if self.m_ > 1 and self.m_ != Y1:  # a full short season around the date a year ago
                half = self.m_ // 2
                wk = np.stack([yp[rows, np.minimum(tgt - back + d, o)]
                               for d in range(-half, self.m_ - half)], 1)
                cols["ylag_year_season"] = np.nanmean(wk, axis=1) / scale
            if self.m_ > 1 and self.m_ != Y1:
                backs = self.m_ * np.ceil(step / self.m_).astype(int)
                cols["ylag_season"] = yp[rows, tgt - backs] / scale
            cols["log_scale"] = np.log1p(np.abs(scale))
        target_dates = period_dates(panel, rows, origin - (panel.T - 1) + step)
        origin_dates = period_dates(panel, rows, origin - (panel.T - 1))
        cols["month"] = target_dates.month.values.astype(float)
        cols["origin_month"] = origin_dates.month.values.astype(float)
        if freqs.get(panel.freq).sub_monthly:
            cols["weekofyear"] = target_dates.isocalendar().week.values.astype(float)
        if panel.freq == "D":
            cols["dayofweek"] = target_dates.day_of_week.values.astype(float)
            cols["dayofmonth"] = target_dates.day.values.astype(float)
            cols["dayofyear"] = target_dates.day_of_year.values.astype(float)
        X = pd.DataFrame({k: v for k, v in cols.items()
                          if not any(k.startswith(e) for e in self.exclude)})
        if self.static_ is not None:
            for c in self.static_.columns:
                X[f"attr_{c}"] = pd.Categorical(self.static_[c].to_numpy()[rows],
                                                categories=self.categories_[c])
        X.attrs["scale"] = scale
        return X

    @staticmethod
    def _cums(yp: np.ndarray):
        z = np.nan_to_num(yp)
        zero = np.zeros((yp.shape[0], 1))
        c1 = np.concatenate([zero, np.cumsum(z, axis=1)], axis=1)
        c2 = np.concatenate([zero, np.cumsum(z * z, axis=1)], axis=1)
        cn = np.concatenate([zero, np.cumsum(~np.isnan(yp), axis=1)], axis=1)
        return c1, c2, cn

    def _sample_rows(self, first_origin: np.ndarray, T: int, h: int, n: int):
        """(series, origin, step) training triples: every one when they fit in ``max_rows``,
        else a seeded uniform sample (all origins stay represented, unlike a stride)."""
        lo = np.minimum(first_origin, T - 2)
        n_orig = np.clip(T - 1 - lo, 0, None)            # origins lo .. T-2
        total = int(np.sum(n_orig) * h)
        if total == 0:
            raise ValueError("series too short for LightGBMDirect")
        if total <= self.max_rows:
            R, O, K = [], [], []
            for i in np.flatnonzero(n_orig):
                o = np.arange(lo[i], T - 1)
                oo, kk = np.repeat(o, h), np.tile(np.arange(1, h + 1), len(o))
                keep = oo + kk <= T - 1
                R.append(np.full(keep.sum(), i)); O.append(oo[keep]); K.append(kk[keep])
            return np.concatenate(R), np.concatenate(O), np.concatenate(K)
        rng = np.random.default_rng(self.seed)
        size = int(self.max_rows * 1.3)
        p = n_orig / n_orig.sum()
        rows = rng.choice(n, size=size, p=p)
        origin = lo[rows] + np.floor(rng.random(size) * n_orig[rows]).astype(int)
        step = rng.integers(1, h + 1, size=size)
        keep = origin + step <= T - 1
        return rows[keep][: self.max_rows], origin[keep][: self.max_rows], \
            step[keep][: self.max_rows]

    def _padded(self, panel: Panel) -> np.ndarray:
        return np.concatenate([np.full((panel.n, self.pad_), np.nan), panel.y], axis=1)

    # -- fit / predict ------------------------------------------------------------------
    def fit(self, panel: Panel) -> LightGBMDirect:
        # heavy: lightgbm loads only when the global model fits
        import lightgbm as lgb

        if self.horizon is None:
            raise ValueError("LightGBMDirect needs horizon= (the longest step it will predict)")
        h = int(self.horizon)
        self._setup(panel)
        self.static_ = panel.static
        self.categories_ = ({c: pd.Index(panel.static[c].astype(str).unique())
                             for c in panel.static.columns} if panel.static is not None else {})
        if self.static_ is not None:
            self.static_ = panel.static.astype(str)
        yp = self._padded(panel)
        first = np.argmax(~np.isnan(panel.y), axis=1)
        min_hist = max(self.m_ + 1, min(self.year_, 2 * self.m_) + 1)
        T = panel.T
        rows, origin, step = self._sample_rows(first + min_hist - 1, T, h, panel.n)
        X = self._features(panel, yp, rows, origin, step)
        target = yp[rows, origin + self.pad_ + step] / X.attrs["scale"]
        keep = np.isfinite(target)
        X, target = X[keep], target[keep]
        log.debug("lightgbm: %d rows x %d features", len(X), X.shape[1])
        self.model_ = lgb.LGBMRegressor(
            objective=self.objective, n_estimators=self.n_estimators,
            learning_rate=self.learning_rate, num_leaves=self.num_leaves,
            min_child_samples=self.min_child_samples, subsample=0.8, subsample_freq=1,
            colsample_bytree=0.8, random_state=self.seed, n_jobs=self.n_jobs,
            deterministic=True, force_row_wise=True, verbose=-1)
        self.model_.fit(X, target)
        self.panel_ = panel
        self.yp_ = yp
        return self

    def predict(self, h: int) -> np.ndarray:
        return self.predict_panel(self.panel_, h)

    def predict_panel(self, panel: Panel, h: int) -> np.ndarray:
        """Forecasts for the series of ``panel`` (any history, same frequency) with the
        trained trees; attributes unseen in training become missing."""
        if h > self.horizon:
            raise ValueError(f"fitted for horizon {self.horizon}, asked for {h}")
        if panel is not self.panel_:
            static = panel.static.astype(str) if panel.static is not None else None
            if self.static_ is not None and (static is None or
                                             set(self.static_.columns) - set(static.columns)):
                raise ValueError(f"the history needs the attribute columns "
                                 f"{list(self.static_.columns)}")
            saved = self.static_
            self.static_ = static[saved.columns] if saved is not None else None
            try:
                return self._predict(panel, self._padded(panel), h)
            finally:
                self.static_ = saved
        return self._predict(panel, self.yp_, h)

    def _predict(self, panel: Panel, yp: np.ndarray, h: int) -> np.ndarray:
        rows = np.repeat(np.arange(panel.n), h)
        step = np.tile(np.arange(1, h + 1), panel.n)
        origin = np.full(rows.size, panel.T - 1)
        X = self._features(panel, yp, rows, origin, step)
        pred = self.model_.predict(X) * X.attrs["scale"]
        return nonneg(pred.reshape(panel.n, h))


class LightGBMLean(LightGBMDirect):
    """The direct LightGBM on calendar, step, level and attributes only (no lags, no
    seasonal lags, no trend ratio) with a Poisson (log-link) objective, so calendar effects
    combine multiplicatively. Less variance on panels of noisy counts that share a
    multiplicative pattern (store x item x weekday x month); chosen, or not, on backtests."""

    name = "lightgbm_lean"

    def __init__(self, horizon: int | None = None, n_lags: int | None = 1,
                 objective: str = "poisson", n_estimators: int = 600,
                 learning_rate: float = 0.04, num_leaves: int = 63,
                 min_child_samples: int = 50, max_rows: int = 1_000_000, n_jobs: int = 2,
                 seed: int = 0, exclude: tuple[str, ...] = ("ylag", "sd_year", "trend_year",
                                                            "lag_", "mean_season")):
        super().__init__(horizon=horizon, n_lags=n_lags, objective=objective,
                         n_estimators=n_estimators, learning_rate=learning_rate,
                         num_leaves=num_leaves, min_child_samples=min_child_samples,
                         max_rows=max_rows, n_jobs=n_jobs, seed=seed, exclude=exclude)
