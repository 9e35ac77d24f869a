"""How much history a series has: ``full``, ``short`` or ``new`` (the ``history`` column).

* ``full``: two seasons or more (104 weeks, 24 months, 14 days): every candidate, seasonal
  ones included, can be fitted and backtested;
* ``short``: from :data:`NEW_BELOW` observations up to two seasons: the smoothing models'
  seasonality test needs three seasons, so they run non-seasonally; the pooled
  decomposition lends them the panel's seasonal indices; the backtest decides;
* ``new``: fewer than :data:`NEW_BELOW` observations (down to one): a cold-start forecast
  from similar products (:mod:`forecasting.demand.models.coldstart`) competes with the
  simplest methods.

The class is computed from the series' length *at each backtest origin* too, so a model is
chosen, and its intervals calibrated, on backtest cells of series of the same kind.

Example:
    >>> import numpy as np
    >>> classify(np.array([120, 60, 5, 1]), 52).tolist()
    ['full', 'short', 'new', 'new']
"""

from __future__ import annotations

import numpy as np

from forecasting.schema import CATEGORY

FULL = "full"
SHORT = "short"
NEW = "new"
GROUPS = (FULL, SHORT, NEW)
FULL_SEASONS = 2   # seasons of history for the full candidate set
NEW_BELOW = 6      # fewer observations than this: a cold-start forecast

# when a group had no backtest cells, the group whose choice and intervals it borrows
FALLBACK = {FULL: (SHORT, NEW), SHORT: (FULL, NEW), NEW: (SHORT, FULL)}


def classify(lengths: np.ndarray, season_length: int) -> np.ndarray:
    """``full``, ``short`` or ``new`` for each series length (observations)."""
    lengths = np.asarray(lengths)
    full = FULL_SEASONS * max(int(season_length), 1)
    return np.where(lengths >= full, FULL, np.where(lengths >= NEW_BELOW, SHORT, NEW))


def peer_keys(static) -> np.ndarray | None:
    """The attribute that says which products are alike: the ``category`` column when the
    panel has one, else its first text attribute; None when it has no text attribute."""
    if static is None or not len(static.columns):
        return None
    if CATEGORY in static.columns:
        return static[CATEGORY].astype(str).to_numpy()
    text = [c for c in static.columns if static[c].dtype == object]
    return static[text[0]].astype(str).to_numpy() if text else None
