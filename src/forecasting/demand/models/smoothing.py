"""Exponential smoothing and Theta, fitted for all series at once (numpy, no per-series loop).

Every series is first tested for seasonality and deseasonalised (classical decomposition,
:mod:`.seasonality`); simple (SES), linear-trend (Holt) and damped-trend forms are then fitted
to the seasonally adjusted series by a grid search over the smoothing parameters that
minimises the in-sample one-step squared error *on the original scale*. The grid runs as one
vectorised recursion over ``(series x parameter sets)``, so 10,000 series cost seconds, not
10,000 optimiser runs.

* :class:`AutoETS` picks, per series, the form (none / additive / damped trend, and additive
  or multiplicative season for positive seasonal series) with the smallest AICc,
  ``n log(SSE/n) + 2k + 2k(k+1)/(n-k-1)`` with ``k`` = smoothing parameters + initial states
  + (m - 1) seasonal indices.
* :class:`SES`, :class:`Holt`, :class:`Damped` fix the trend form.
* :class:`Theta` is the standard Theta method (Assimakopoulos & Nikolopoulos 2000, in the form
  of Hyndman & Billah 2003): SES plus half the slope of a linear trend,
  ``l_T + b0/2 (h - 1 + 1/a - (1-a)^T/a)``, on the deseasonalised series.

:class:`forecasting.demand.models.ets_statsmodels.StatsmodelsETS` is the per-series
statsmodels reference for the same AICc choice (slower; used for small panels and to check
this implementation).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from forecasting.demand.models.base import Forecaster, nonneg
from forecasting.demand.models.seasonality import Deseasonaliser, expand
from forecasting.demand.panel import Panel

ALPHAS = np.array([0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.98])
BETAS = np.array([0.02, 0.1, 0.25, 0.5])   # as a fraction of alpha (beta* = beta / alpha)
PHIS = np.array([0.8, 0.9, 0.95, 0.98])
FORMS = ("N", "A", "Ad")                      # trend: none, additive, additive damped
_CHUNK_CELLS = 1_500_000


def _grid() -> dict[str, np.ndarray]:
    a, b, p, f = [], [], [], []
    for al in ALPHAS:
        a.append(al); b.append(0.0); p.append(1.0); f.append(0)
        for be in BETAS:
            a.append(al); b.append(be); p.append(1.0); f.append(1)
            for ph in PHIS:
                a.append(al); b.append(be); p.append(ph); f.append(2)
    return {"alpha": np.array(a), "beta": np.array(b), "phi": np.array(p),
            "form": np.array(f)}


GRID = _grid()


def _initial_slope(x: np.ndarray, m: int) -> np.ndarray:
    """OLS slope over the first max(2m, 10) observations of each row."""
    n, T = x.shape
    first = np.argmax(~np.isnan(x), axis=1)
    w = max(2 * m, 10)
    cols = first[:, None] + np.arange(w)[None, :]
    ok = cols < T
    vals = np.where(ok, x[np.arange(n)[:, None], np.minimum(cols, T - 1)], np.nan)
    t = np.where(~np.isnan(vals), np.arange(w)[None, :], np.nan)
    tm, vm = np.nanmean(t, axis=1, keepdims=True), np.nanmean(vals, axis=1, keepdims=True)
    num = np.nansum((t - tm) * (vals - vm), axis=1)
    den = np.nansum((t - tm) ** 2, axis=1)
    return np.where(den > 0, num / np.where(den > 0, den, 1), 0.0)


def _run_grid(x: np.ndarray, s_past: np.ndarray, mult: np.ndarray, b0: np.ndarray):
    """SSE (original scale), final level and slope for every (series, parameter set)."""
    n, T = x.shape
    G = GRID["alpha"].size
    alpha, beta, phi = GRID["alpha"][None], GRID["beta"][None], GRID["phi"][None]
    ab = alpha * beta
    has_trend = (GRID["form"] > 0)[None]
    sse = np.empty((n, G)); level = np.empty((n, G)); slope = np.empty((n, G))
    step = max(1, _CHUNK_CELLS // G)
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        xc, sc, mc = x[lo:hi], s_past[lo:hi], mult[lo:hi, None]
        c = hi - lo
        l = np.full((c, G), np.nan)
        b = np.zeros((c, G))
        e2 = np.zeros((c, G))
        b_init = np.where(has_trend, b0[lo:hi, None], 0.0)
        start = int(np.argmax((~np.isnan(xc)).any(axis=0)))
        for t in range(start, T):
            xt = xc[:, t:t + 1]
            valid = ~np.isnan(xt)
            init = valid & np.isnan(l)
            f = l + phi * b
            e = xt - f
            eo = np.where(mc, e * sc[:, t:t + 1], e)
            upd = valid & ~init
            e2 += np.where(upd, eo * eo, 0.0)
            l = np.where(upd, f + alpha * e, np.where(init, xt, l))
            b = np.where(upd, phi * b + ab * e, np.where(init, b_init, b))
        sse[lo:hi], level[lo:hi], slope[lo:hi] = e2, l, b
    return sse, level, slope


@dataclass
class _Fit:
    """Best parameters per series and trend form, for one deseasonalisation."""

    des: Deseasonaliser
    sse: np.ndarray      # (n, 3) best SSE per form
    param: np.ndarray    # (n, 3) index into GRID of the best set per form
    level: np.ndarray    # (n, 3)
    slope: np.ndarray    # (n, 3)
    nobs: np.ndarray     # (n,)
    T: int


_cache: OrderedDict = OrderedDict()


def _fit(y: np.ndarray, m: int, mode: str) -> _Fit:
    key = (y.shape, m, mode, hash(y.tobytes()))
    if key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    des = Deseasonaliser(m, mode).fit(y)
    x = des.transform(y)
    past, _ = expand(des.indices_, y.shape[1])
    sse, level, slope = _run_grid(x, past, des.multiplicative_, _initial_slope(x, m))
    n = y.shape[0]
    best_sse = np.empty((n, 3)); best = np.empty((n, 3), int)
    lv = np.empty((n, 3)); sl = np.empty((n, 3))
    rows = np.arange(n)
    for k in range(3):
        cols = np.flatnonzero(GRID["form"] == k)
        j = cols[np.argmin(sse[:, cols], axis=1)]
        best[:, k], best_sse[:, k] = j, sse[rows, j]
        lv[:, k], sl[:, k] = level[rows, j], slope[rows, j]
    out = _Fit(des, best_sse, best, lv, sl, np.sum(~np.isnan(y), axis=1), y.shape[1])
    _cache[key] = out
    if len(_cache) > 6:
        _cache.popitem(last=False)
    return out


def _path(fit: _Fit, form: np.ndarray, h: int) -> np.ndarray:
    """Point forecasts (original scale) for the chosen form per series."""
    rows = np.arange(form.size)
    j = fit.param[rows, form]
    phi = GRID["phi"][j][:, None]
    k = np.arange(1, h + 1)[None]
    damp = np.where(phi < 1, phi * (1 - phi ** k) / np.where(phi < 1, 1 - phi, 1), k)
    f = fit.level[rows, form][:, None] + fit.slope[rows, form][:, None] * damp
    return fit.des.inverse_future(f, fit.T)


def aicc(sse: np.ndarray, nobs: np.ndarray, k: np.ndarray) -> np.ndarray:
    n = np.maximum(nobs - 1, 1).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        base = n * np.log(np.maximum(sse, 1e-12) / n) + 2 * k
        corr = np.where(n - k - 1 > 0, 2 * k * (k + 1) / (n - k - 1), np.inf)
    return base + corr


class _SmoothingForecaster(Forecaster):
    season_mode = "auto"

    def __init__(self, season_length: int | None = None):
        self.season_length = season_length

    def _m(self, panel: Panel) -> int:
        return self.season_length or panel.season_length


class AutoETS(_SmoothingForecaster):
    """Exponential smoothing with the trend form (N, A, Ad) and seasonal form (additive,
    multiplicative) chosen per series by AICc."""

    name = "ets"

    def fit(self, panel: Panel) -> AutoETS:
        m = self._m(panel)
        fits = [_fit(panel.y, m, "auto")]
        if fits[0].des.multiplicative_.any():
            fits.append(_fit(panel.y, m, "additive"))
        n = panel.n
        k_trend = np.array([2, 4, 5])[None]
        best = np.full(n, np.inf); choice = np.zeros((n, 2), int)
        for v, fit in enumerate(fits):
            k_season = np.where(fit.des.seasonal_, m - 1, 0)[:, None]
            crit = aicc(fit.sse, fit.nobs[:, None], k_trend + k_season)
            if v > 0:  # the additive variant only competes for multiplicative series
                crit[~fits[0].des.multiplicative_] = np.inf
            j = np.argmin(crit, axis=1)
            c = crit[np.arange(n), j]
            better = c < best
            best[better] = c[better]
            choice[better] = np.stack([np.full(n, v), j], axis=1)[better]
        self.fits_, self.choice_ = fits, choice
        self.forms_ = np.array(FORMS)[choice[:, 1]]
        return self

    def predict(self, h: int) -> np.ndarray:
        out = np.empty((self.choice_.shape[0], h))
        for v, fit in enumerate(self.fits_):
            rows = self.choice_[:, 0] == v
            if rows.any():
                out[rows] = _path(fit, self.choice_[:, 1], h)[rows]
        return nonneg(out)


class _FixedForm(_SmoothingForecaster):
    form = 0

    def fit(self, panel: Panel) -> _FixedForm:
        self.fit_ = _fit(panel.y, self._m(panel), self.season_mode)
        return self

    def predict(self, h: int) -> np.ndarray:
        form = np.full(self.fit_.level.shape[0], self.form)
        return nonneg(_path(self.fit_, form, h))


class SES(_FixedForm):
    """Simple exponential smoothing of the seasonally adjusted series."""

    name = "ses"
    form = 0


class Holt(_FixedForm):
    """Linear-trend (Holt) exponential smoothing of the seasonally adjusted series."""

    name = "holt"
    form = 1


class Damped(_FixedForm):
    """Damped-trend exponential smoothing of the seasonally adjusted series."""

    name = "damped"
    form = 2


class Theta(_SmoothingForecaster):
    """Standard Theta method (theta = 2) on the seasonally adjusted series."""

    name = "theta"

    def fit(self, panel: Panel) -> Theta:
        fit = _fit(panel.y, self._m(panel), self.season_mode)
        x = fit.des.transform(panel.y)
        t = np.where(np.isnan(x), np.nan, np.arange(x.shape[1])[None, :].astype(float))
        tm, xm = np.nanmean(t, axis=1, keepdims=True), np.nanmean(x, axis=1, keepdims=True)
        den = np.nansum((t - tm) ** 2, axis=1)
        self.b0_ = np.where(den > 0, np.nansum((t - tm) * (x - xm), axis=1) /
                            np.where(den > 0, den, 1), 0.0)
        self.alpha_ = GRID["alpha"][fit.param[:, 0]]
        self.level_ = fit.level[:, 0]
        self.nobs_ = fit.nobs
        self.fit_ = fit
        return self

    def predict(self, h: int) -> np.ndarray:
        a = self.alpha_[:, None]
        k = np.arange(1, h + 1)[None]
        drift = 0.5 * self.b0_[:, None] * (k - 1 + 1 / a - (1 - a) ** self.nobs_[:, None] / a)
        return nonneg(self.fit_.des.inverse_future(self.level_[:, None] + drift, self.fit_.T))
