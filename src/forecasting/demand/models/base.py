"""The forecaster contract every model follows (scikit-learn style).

* ``__init__`` only stores keyword hyperparameters;
* ``fit(panel)`` learns from a :class:`~forecasting.demand.panel.Panel` and returns ``self``;
  learned state ends in ``_``;
* ``predict(h)`` returns an ``(n_series, h)`` array of non-negative point forecasts for the
  ``h`` periods after each series' last observation;
* ``forecast(panel, h)`` is ``fit(panel).predict(h)``; the contract tests check both agree.

Models never mutate the panel, never log runs and are deterministic (seeded).
"""

from __future__ import annotations

import numpy as np

from forecasting.demand.panel import Panel


class Forecaster:
    """Base class: parameter handling shared by all forecasters."""

    name = "forecaster"
    #: True when one model learns from all series (global); False for one fit per series
    is_global = False
    #: True when a series' forecast depends on the other series of the panel (pooled
    #: seasonal indices, peer levels, a global model): the Spark engine fits these once over
    #: every series on the driver, the others per series bucket
    pooled = False

    def get_params(self) -> dict:
        return {k: v for k, v in vars(self).items() if not k.endswith("_")}

    def fit(self, panel: Panel) -> Forecaster:  # pragma: no cover - interface
        raise NotImplementedError

    def predict(self, h: int) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def forecast(self, panel: Panel, h: int) -> np.ndarray:
        return self.fit(panel).predict(h)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


def last_values(y: np.ndarray, k: int) -> np.ndarray:
    """The last ``k`` columns (right-aligned panels end in the same column)."""
    return y[:, -k:]


def nonneg(f: np.ndarray) -> np.ndarray:
    """Forecasts of demand are never negative (and never NaN)."""
    return np.clip(np.nan_to_num(f, nan=0.0, posinf=0.0, neginf=0.0), 0.0, None)


def first_index(y: np.ndarray) -> np.ndarray:
    """Column of the first observation of each row."""
    return np.argmax(~np.isnan(y), axis=1)
