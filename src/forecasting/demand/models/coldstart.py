"""Cold start: a forecast for a product with (almost) no history, from similar products.

The peers of a product are the established series of the panel (at least
:data:`~forecasting.demand.history.NEW_BELOW` observations) with the same category (see
:func:`~forecasting.demand.history.peer_keys`), or the whole panel when it has no category or
the category has no established product. The peer level is the **median** of their recent
levels (mean demand over their last season), robust to the few products that carry most of
the volume. A product's own mean counts as ``n`` observations against ``prior`` for the peer
level, so its forecast moves from its peers' level towards its own as it sells:

    yhat = (n * own_mean + prior * peer_level) / (n + prior)

The forecast is flat. Whether it beats the plain mean or the last value on young series is
for the backtest to say (the ``new`` group is chosen on backtest cells of young series).

Example:
    >>> import numpy as np
    >>> from forecasting.demand.panel import Panel
    >>> y = np.array([[10.0] * 8, [20.0] * 8, [np.nan] * 7 + [3.0]])
    >>> p = Panel(np.array(["a", "b", "new"]), y,
    ...           np.array(["2024-03-04"] * 3, dtype="datetime64[ns]"), "W")
    >>> ColdStart(prior=3).forecast(p, 2)[2].round(2).tolist()
    [12.0, 12.0]
"""

from __future__ import annotations

import warnings

import numpy as np

from forecasting.demand.history import NEW_BELOW, peer_keys
from forecasting.demand.models.base import Forecaster, nonneg
from forecasting.demand.panel import Panel


class ColdStart(Forecaster):
    """Shrink a product's own mean towards the median level of its established peers."""

    name = "cold_start"
    pooled = True

    def __init__(self, prior: float = float(NEW_BELOW)):
        self.prior = prior

    def fit(self, panel: Panel) -> ColdStart:
        y = panel.y
        n = np.sum(~np.isnan(y), axis=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            own = np.where(n > 0, np.nanmean(y, axis=1), 0.0)
            recent = np.nanmean(y[:, -max(panel.season_length, 1):], axis=1)
        established = (n >= NEW_BELOW) & np.isfinite(recent)
        whole = float(np.median(recent[established])) if established.any() else float(
            np.median(own[n > 0])) if (n > 0).any() else 0.0
        peer = np.full(panel.n, whole)
        keys = peer_keys(panel.static)
        if keys is not None:
            for k in np.unique(keys):
                rows = keys == k
                ok = rows & established
                if ok.any():
                    peer[rows] = np.median(recent[ok])
        self.level_ = (n * own + self.prior * peer) / (n + self.prior)
        return self

    def predict(self, h: int) -> np.ndarray:
        return nonneg(np.repeat(self.level_[:, None], h, axis=1))
