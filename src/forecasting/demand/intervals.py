"""Prediction intervals by split-conformal calibration on backtest errors.

Backtest errors ``actual - forecast`` are divided by a scale per series and step (see
:func:`interval_scale`: the forecast, its square root, the series' own noise, or that noise
moved by the season; the pipeline keeps the one with the best leave-one-window-out scaled
interval score on the backtest) and pooled over series and windows, separately for each
horizon step. The
interval at level ``L`` is ``yhat + scale * [q_lo, q_hi]`` with ``q_lo``/``q_hi`` the
conformal ``(1-L)/2`` and ``(1+L)/2`` quantiles of those scaled errors (finite-sample
corrected). Quantiles are made monotone in the step by isotonic regression (intervals never
narrow further out): a step whose quantile is out of line with its neighbours is pulled
towards them, up or down, instead of widening every later step as a running maximum would;
the price is that such a step's own coverage is that of its neighbours.

Guarantees: intervals **nest** (the 95% interval contains the 80% one: quantiles are
monotone in the level), contain the point forecast, and are **never negative** (clipped at 0).

The scaled error paths are kept (up to ``max_paths``) so that the production plan can take
the quantile of the *sum* of lead-time demand, with the errors' correlation across steps.

Beyond the steps it was calibrated for (a plan whose lead time is longer than the model's
horizon) the last step's quantiles and paths are **extended** by the square root of the step
ratio (``q_k = q_H sqrt(k / H)``, the growth of a random walk's spread): wider, never
narrower, and flagged by the caller. :class:`GroupIntervals` holds one calibration per history
group (``full``, ``short``, ``new``): intervals are calibrated on backtest errors of series of
the same kind.
"""

from __future__ import annotations

import numpy as np
from sklearn.isotonic import isotonic_regression

from forecasting.errors import ForecastingError
from forecasting.settings import DEFAULT_LEVELS


class ConformalIntervals:
    def __init__(self, levels=DEFAULT_LEVELS, max_paths: int = 5000, seed: int = 0):
        self.levels = tuple(int(v) for v in levels)
        self.max_paths = max_paths
        self.seed = seed

    def fit(self, errors: np.ndarray, scale: np.ndarray) -> ConformalIntervals:
        """``errors`` (windows, series, h) actual minus forecast; ``scale`` of the same shape
        (or (windows, series))."""
        h = errors.shape[-1]
        if scale.ndim == errors.ndim - 1:
            scale = scale[..., None]
        with np.errstate(all="ignore"):
            r = (errors / scale).reshape(-1, h)
        r = r[np.isfinite(r).all(axis=1)]
        if len(r) == 0:
            raise ForecastingError(
                "no backtest errors to calibrate the intervals on: the history is too short "
                "for a backtest window of this horizon; give more history or a shorter "
                "--horizon")
        self.n_calib_ = len(r)
        self.q_ = {}
        for level in self.levels:
            a = 1 - level / 100
            n = len(r)
            hi_p = min(1.0, np.ceil((n + 1) * (1 - a / 2)) / n)
            lo_p = max(0.0, 1 - hi_p)
            lo = monotone(np.minimum(np.quantile(r, lo_p, axis=0), 0.0), increasing=False)
            hi = monotone(np.maximum(np.quantile(r, hi_p, axis=0), 0.0), increasing=True)
            self.q_[level] = (lo, hi)
        # nesting: a higher level never gives a narrower side
        prev = None
        for level in sorted(self.levels):
            lo, hi = self.q_[level]
            if prev is not None:
                lo, hi = np.minimum(lo, prev[0]), np.maximum(hi, prev[1])
                self.q_[level] = (lo, hi)
            prev = (lo, hi)
        rng = np.random.default_rng(self.seed)
        keep = rng.choice(len(r), size=min(len(r), self.max_paths), replace=False)
        self.paths_ = r[np.sort(keep)]
        return self

    @property
    def steps(self) -> int:
        """Horizon steps the calibration covers (later steps are extended)."""
        return int(self.paths_.shape[1])

    def bounds(self, yhat: np.ndarray, scale: np.ndarray
               ) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """``{level: (lo, hi)}`` arrays shaped like ``yhat`` (series, h); steps beyond
        :attr:`steps` are extended (see the module docstring)."""
        h = yhat.shape[-1]
        out = {}
        s = scale[..., None] if scale.ndim == yhat.ndim - 1 else scale[..., :h]
        for level in self.levels:
            lo, hi = self.q_[level]
            out[level] = (np.clip(yhat + s * extend(lo, h), 0, None),
                          np.clip(yhat + s * extend(hi, h), 0, None))
        return out

    def paths(self, h: int) -> np.ndarray:
        """Scaled error paths over ``h`` steps (extended beyond :attr:`steps`)."""
        return extend(self.paths_, h)


def extend(q: np.ndarray, h: int) -> np.ndarray:
    """The first ``h`` steps of per-step values ``q`` (last axis), steps beyond its length
    continued as ``q[-1] * sqrt(k / H)``."""
    H = q.shape[-1]
    if h <= H:
        return q[..., :h]
    k = np.arange(H + 1, h + 1)
    return np.concatenate([q, q[..., -1:] * np.sqrt(k / H)], axis=-1)


class GroupIntervals:
    """One :class:`ConformalIntervals` per history group (each with its own error scaling);
    ``borrowed`` names the groups calibrated on another group's errors (no backtest cells of
    their own)."""

    def __init__(self, by_group: dict, borrowed: dict | None = None):
        self.by_group = by_group
        self.borrowed = dict(borrowed or {})

    @property
    def levels(self) -> tuple[int, ...]:
        return next(iter(self.by_group.values())).levels

    @property
    def steps(self) -> int:
        return min(ci.steps for ci in self.by_group.values())

    def scale(self, yhat: np.ndarray, level: np.ndarray, noise: np.ndarray,
              groups: np.ndarray) -> np.ndarray:
        out = np.empty(yhat.shape)
        for g, ci in self.by_group.items():
            rows = groups == g
            if rows.any():
                out[rows] = interval_scale(yhat[rows], level[rows], noise[rows],
                                           getattr(ci, "scaling", "forecast"))
        return out

    def bounds(self, yhat: np.ndarray, scale: np.ndarray, groups: np.ndarray) -> dict:
        out = {lv: (np.zeros(yhat.shape), np.zeros(yhat.shape)) for lv in self.levels}
        for g, ci in self.by_group.items():
            rows = groups == g
            if rows.any():
                b = ci.bounds(yhat[rows], scale[rows])
                for lv in self.levels:
                    out[lv][0][rows], out[lv][1][rows] = b[lv]
        return out

    def paths(self, group: str, h: int) -> np.ndarray:
        return self.by_group[group].paths(h)


def monotone(q: np.ndarray, increasing: bool) -> np.ndarray:
    """The closest (least-squares) sequence to the per-step quantiles ``q`` that never
    narrows with the step: isotonic regression, so one noisy step does not (as a running
    maximum would) widen every step after it; it is averaged with its neighbours instead."""
    return isotonic_regression(q, increasing=increasing)


SCALINGS = ("forecast", "series", "sqrt", "series_sqrt")


def interval_scale(yhat: np.ndarray, level: np.ndarray, noise: np.ndarray | None = None,
                   scaling: str = "forecast") -> np.ndarray:
    """Scale of the errors per series and step: how the spread of demand is assumed to move
    with its expected size.

    * ``forecast``: the forecast itself (errors proportional to demand: multiplicative noise);
    * ``sqrt``: its square root (errors of counts: Poisson-like noise);
    * ``series``: the series' own ``noise`` (its typical period-to-period change, see
      :func:`~forecasting.demand.metrics.noise_scale`), the same for every step (additive
      noise);
    * ``series_sqrt``: that noise times the square root of the forecast relative to the
      series' recent level (each series' own noise, larger in its busy periods).

    The forecast is floored at 10% of the recent level first, the noise at 1% of it (a
    series that never changes, or never sells, gets intervals of about its own size, not of
    one unit). The pipeline picks the scaling with the best (lowest) leave-one-window-out
    scaled interval score.
    """
    lvl = np.maximum(np.nan_to_num(level), 1e-6)[..., None]
    f = np.maximum(np.nan_to_num(yhat), 0.1 * lvl)
    m = (np.maximum(np.nan_to_num(noise, nan=0.0)[..., None], 0.01 * lvl)
         if noise is not None else None)
    if scaling == "series" and m is not None:
        return np.broadcast_to(m, yhat.shape).copy()
    if scaling == "series_sqrt" and m is not None:
        return m * np.sqrt(f / lvl)
    if scaling == "sqrt":
        return np.sqrt(f)
    return f


def recent_level(y: np.ndarray, m: int) -> np.ndarray:
    """Mean absolute value over the last season of each row."""
    with np.errstate(all="ignore"):
        return np.nan_to_num(np.nanmean(np.abs(y[:, -max(m, 1):]), axis=1))
