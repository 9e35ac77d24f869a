"""Intermittent demand: Croston, SBA and TSB, and the ADI/CV² classification that routes
each series to them.

Classification (Syntetos, Boylan & Croston 2005) on the history of each series:
``ADI`` = periods per non-zero demand, ``CV2`` = squared coefficient of variation of the
non-zero sizes. ``smooth`` (ADI < 1.32, CV2 < 0.49), ``erratic`` (ADI < 1.32), ``intermittent``
(CV2 < 0.49), ``lumpy`` otherwise. Intermittent and lumpy series are forecast by this family.

* Croston: smooth non-zero sizes ``z`` and intervals ``p`` separately; forecast ``z / p``.
* SBA: Croston times ``1 - alpha / 2`` (Syntetos-Boylan bias correction).
* TSB (Teunter, Syntetos & Babai 2011): smooth the demand probability every period (so a
  product that stopped selling decays to 0) and the size at demands; forecast ``prob * z``.

Example:
    >>> import numpy as np
    >>> adi_cv2(np.array([[0, 0, 3, 0, 0, 3, 0, 0, 3.0]]))
    (array([3.]), array([0.]))
    >>> classify(np.array([[0, 0, 3, 0, 0, 3, 0, 0, 3.0]])).tolist()
    ['intermittent']
"""

from __future__ import annotations

import warnings

import numpy as np

from forecasting.demand.models.base import Forecaster, nonneg
from forecasting.demand.panel import Panel

ADI_CUT = 1.32
CV2_CUT = 0.49


def adi_cv2(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average demand interval and squared CV of non-zero sizes, per row."""
    nz = (y > 0) & ~np.isnan(y)
    n = np.sum(~np.isnan(y), axis=1)
    k = nz.sum(axis=1)
    adi = np.where(k > 0, n / np.maximum(k, 1), np.inf)
    sizes = np.where(nz, y, np.nan)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # rows without any sale
        mu = np.nanmean(sizes, axis=1)
        cv2 = np.where(k > 1, np.nanvar(sizes, axis=1) / mu ** 2, 0.0)
    return adi, np.nan_to_num(cv2)


def classify(y: np.ndarray) -> np.ndarray:
    """``smooth``, ``erratic``, ``intermittent`` or ``lumpy`` per row."""
    adi, cv2 = adi_cv2(y)
    return np.where(adi < ADI_CUT, np.where(cv2 < CV2_CUT, "smooth", "erratic"),
                    np.where(cv2 < CV2_CUT, "intermittent", "lumpy"))


def is_intermittent(y: np.ndarray) -> np.ndarray:
    return np.isin(classify(y), ("intermittent", "lumpy"))


def _croston_states(y: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    n, T = y.shape
    z = np.full(n, np.nan)
    p = np.full(n, np.nan)
    q = np.ones(n)  # periods since the last demand
    for t in range(T):
        yt = y[:, t]
        demand = yt > 0
        first = demand & np.isnan(z)
        upd = demand & ~first
        z = np.where(first, yt, np.where(upd, z + alpha * (yt - z), z))
        p = np.where(first, q, np.where(upd, p + alpha * (q - p), p))
        q = np.where(demand, 1.0, np.where(np.isnan(yt), q, q + 1.0))
    return np.nan_to_num(z), np.where(np.isnan(p), 1.0, p)


class Croston(Forecaster):
    """Croston's method (flat forecast ``z / p``)."""

    name = "croston"
    correction = 1.0

    def __init__(self, alpha: float = 0.1):
        self.alpha = alpha

    def fit(self, panel: Panel) -> Croston:
        z, p = _croston_states(panel.y, self.alpha)
        factor = (1 - self.alpha / 2) if self.correction != 1.0 else 1.0
        self.level_ = factor * z / p
        return self

    def predict(self, h: int) -> np.ndarray:
        return nonneg(np.repeat(self.level_[:, None], h, axis=1))


class SBA(Croston):
    """Syntetos-Boylan approximation: Croston with the ``1 - alpha/2`` bias correction."""

    name = "sba"
    correction = 0.5


class TSB(Forecaster):
    """Teunter-Syntetos-Babai: demand probability smoothed every period (``beta``), size at
    demands (``alpha``); forecast ``probability * size``."""

    name = "tsb"

    def __init__(self, alpha: float = 0.1, beta: float = 0.1):
        self.alpha = alpha
        self.beta = beta

    def fit(self, panel: Panel) -> TSB:
        y = panel.y
        n, T = y.shape
        z = np.full(n, np.nan)
        prob = np.full(n, np.nan)
        for t in range(T):
            yt = y[:, t]
            valid = ~np.isnan(yt)
            d = (yt > 0).astype(float)
            prob = np.where(valid & np.isnan(prob), d,
                            np.where(valid, prob + self.beta * (d - prob), prob))
            demand = valid & (yt > 0)
            z = np.where(demand & np.isnan(z), yt,
                         np.where(demand, z + self.alpha * (yt - z), z))
        self.level_ = np.nan_to_num(prob) * np.nan_to_num(z)
        return self

    def predict(self, h: int) -> np.ndarray:
        return nonneg(np.repeat(self.level_[:, None], h, axis=1))
