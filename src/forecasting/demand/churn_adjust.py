"""Churn-adjusted demand: the forecast minus the expected volume of customers likely to leave.

For product ``p`` and forecast period ``k`` (ending ``d_k`` days after the cutoff)::

    yhat_churn_adjusted[p, k] = yhat[p, k] * (1 - sum_c share[c, p] * q[c, k])

* ``share[c, p]``: customer ``c``'s share of product ``p``'s completed volume over the
  ``recent_days`` before the cutoff (default: the churn model's horizon);
* ``q[c, k] = 1 - (1 - P_c) ** (d_k / H)``: the chance that ``c`` has left by the end of the
  period, from the churn model's probability ``P_c`` over its horizon ``H`` days (a constant
  hazard), with features built as of the cutoff
  (:func:`forecasting.features.build_features`). Customers without features (no order in the
  lookback) have no recent volume, hence no share.

The plain forecast already carries the churn the history showed (its level and trend); the
adjustment moves it by what the churn model knows about *these* customers now. Whether that
lowers the error is measured, not assumed (``benchmarks/bench_churn_adjust.py``).

Example:
    >>> import numpy as np
    >>> left_by(np.array([0.5]), np.array([90.0, 180.0]), 90).round(3).tolist()
    [[0.5, 0.75]]
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from forecasting.demand import freq as freqs
from forecasting.schema import (CUSTOMER_ID, DS, ORDER_DATE, PRODUCT_ID, QUANTITY, STATUS,
                                STATUS_COMPLETED, UNIQUE_ID)

log = logging.getLogger(__name__)

ADJUSTED = "yhat_churn_adjusted"


def left_by(proba: np.ndarray, days: np.ndarray, horizon_days: float) -> np.ndarray:
    """(customers, periods) chance of having left ``days`` after the cutoff, from the
    probability of leaving within ``horizon_days`` (constant hazard)."""
    p = np.clip(np.asarray(proba, float), 0.0, 1.0 - 1e-12)[:, None]
    return 1.0 - (1.0 - p) ** (np.asarray(days, float)[None, :] / float(horizon_days))


def customer_shares(orders: pd.DataFrame, cutoff: pd.Timestamp, days: int) -> pd.DataFrame:
    """``product_id, customer_id, share``: each customer's share of each product's completed
    volume in ``(cutoff - days, cutoff]``."""
    o = orders
    if STATUS in o:
        o = o[o[STATUS].fillna(STATUS_COMPLETED) == STATUS_COMPLETED]
    end = pd.Timestamp(cutoff).normalize() + pd.Timedelta(days=1)
    o = o[(o[ORDER_DATE] >= end - pd.Timedelta(days=days)) & (o[ORDER_DATE] < end)]
    vol = o.groupby([PRODUCT_ID, CUSTOMER_ID])[QUANTITY].sum().clip(lower=0).reset_index()
    total = vol.groupby(PRODUCT_ID)[QUANTITY].transform("sum")
    vol["share"] = np.where(total > 0, vol[QUANTITY] / total.where(total > 0, 1.0), 0.0)
    vol[PRODUCT_ID] = vol[PRODUCT_ID].astype(str)
    vol[CUSTOMER_ID] = vol[CUSTOMER_ID].astype(str)
    return vol[[PRODUCT_ID, CUSTOMER_ID, "share"]]


def history_end(series: pd.DataFrame, freq: str) -> pd.Timestamp:
    """The last day the demand history covers (the end of its last period): the cutoff."""
    last = pd.Timestamp(pd.to_datetime(series[DS]).max())
    return last + pd.Timedelta(days=freqs.days_per_period(freq) - 1)


def adjuster(data, churn_model, cutoff, freq: str):
    """``table -> table with yhat_churn_adjusted`` for forecasts made at ``cutoff``."""
    return lambda table: churn_adjust(table, data, churn_model, cutoff, freq)


def churn_adjust(table: pd.DataFrame, data, churn_model, cutoff, freq: str,
                 recent_days: int | None = None) -> pd.DataFrame:
    """A copy of the forecast ``table`` (``unique_id`` = product id, ``ds``, ``yhat``) with
    ``yhat_churn_adjusted`` beside ``yhat`` (see the module docstring). ``churn_model`` is a
    :class:`~forecasting.churn.model.ChurnModel` (e.g. the champion); ``cutoff`` the last day of
    the demand history."""
    # heavy: the churn stack loads only when demand is churn-adjusted
    from forecasting.churn.config import ChurnConfig
    from forecasting.features import build_features

    cutoff = pd.Timestamp(cutoff)
    horizon = float(churn_model.config.get("horizon_days", ChurnConfig().horizon_days))
    feats = build_features(data, cutoff)
    proba = pd.Series(churn_model.predict_proba(feats), index=feats.index.astype(str))
    shares = customer_shares(data.orders, cutoff, int(recent_days or horizon))
    shares["proba"] = shares[CUSTOMER_ID].map(proba).fillna(0.0).to_numpy()
    out = table.copy()
    end = pd.to_datetime(out[DS]) + pd.Timedelta(days=freqs.days_per_period(freq))
    days = (end - cutoff.normalize()).dt.days.clip(lower=0).to_numpy(float)
    uniq_days = np.unique(days)
    lost = left_by(shares["proba"].to_numpy(), uniq_days, horizon) * \
        shares["share"].to_numpy()[:, None]
    per_product = pd.DataFrame(lost, columns=uniq_days).groupby(
        shares[PRODUCT_ID].to_numpy()).sum()
    keys = pd.MultiIndex.from_arrays([out[UNIQUE_ID].astype(str).to_numpy(), days])
    stacked = per_product.stack()
    frac = pd.Series(stacked.to_numpy(), index=stacked.index).reindex(keys).fillna(0.0)
    out[ADJUSTED] = out["yhat"].to_numpy() * (1.0 - np.clip(frac.to_numpy(), 0.0, 1.0))
    log.info("churn-adjusted demand: %.1f%% of the forecast volume is expected to leave with "
             "customers likely to churn", 100 * (1 - out[ADJUSTED].sum()
                                                / max(out["yhat"].sum(), 1e-12)))
    return out
