"""Forecasters by name. Every one follows :mod:`.base` (fit(panel) -> self, predict(h))."""

from __future__ import annotations

from forecasting.demand.models.baselines import Mean, SeasonalNaive
from forecasting.demand.models.coldstart import ColdStart
from forecasting.demand.models.decomposition import CategoryDecomposition, Decomposition
from forecasting.demand.models.intermittent import SBA, TSB, Croston
from forecasting.demand.models.lgbm import LightGBMDirect, LightGBMLean
from forecasting.demand.models.smoothing import SES, AutoETS, Damped, Holt, Theta

REGISTRY = {
    "seasonal_naive": SeasonalNaive,
    "mean": Mean,
    "ses": SES,
    "holt": Holt,
    "damped": Damped,
    "ets": AutoETS,
    "theta": Theta,
    "decomposition": Decomposition,
    "decomposition_category": CategoryDecomposition,
    "cold_start": ColdStart,
    "croston": Croston,
    "sba": SBA,
    "tsb": TSB,
    "lightgbm": LightGBMDirect,
    "lightgbm_lean": LightGBMLean,
}


def make(name: str, horizon: int, **params):
    """A fresh forecaster by name; ``horizon`` is passed to direct (global) models."""
    if name == "ets_statsmodels":
        # heavy: statsmodels' ETS loads only when this candidate is asked for
        from forecasting.demand.models.ets_statsmodels import StatsmodelsETS

        return StatsmodelsETS(**params)
    cls = REGISTRY[name]
    if issubclass(cls, LightGBMDirect):
        return cls(horizon=horizon, **params)
    return cls(**params)


def is_pooled(name: str) -> bool:
    """Whether a series' forecast by model ``name`` depends on the other series of the panel
    (a global or pooled model, :attr:`~.base.Forecaster.pooled`); the others are fitted one
    series at a time (statsmodels' ETS included)."""
    cls = REGISTRY.get(name)
    return cls is not None and bool(cls.pooled or cls.is_global)
