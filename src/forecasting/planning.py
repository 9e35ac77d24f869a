"""Production plan: how much of each product to make, from the demand forecast distribution.

For each product in the inventory table:

* ``lead_time_periods`` = ceil(lead_time_days / days per period) (one forecast horizon when
  the lead time is unknown);
* ``lead_time_demand`` = the sum of the point forecasts over the lead time;
* ``lead_time_demand_at_service_level`` = the ``service_level`` quantile of the *sum* of
  demand over the lead time. The sum's distribution comes from sample paths: the point path
  plus each backtest error path (scaled to the product and period, so errors keep their
  correlation across periods), clipped at 0. It is not the sum of per-period quantiles, which would
  overstate the safety stock;
* ``safety_stock`` = that quantile minus ``lead_time_demand`` (never negative);
* ``recommended_quantity`` = max(0, quantile - on_hand), rounded **up** to a multiple of
  ``min_batch`` (when given), so an overstocked product gets 0 and one without stock a
  positive quantity;
* ``stockout_date`` = the first forecast period whose cumulative demand exceeds ``on_hand``
  if nothing is made (empty when stock lasts past the horizon).

Example:
    >>> import numpy as np, pandas as pd
    >>> round_up_to_batch(np.array([0.0, 1.0, 26.0]), np.array([10.0, 10.0, np.nan])).tolist()
    [0.0, 10.0, 26.0]
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from forecasting.errors import DataError, Problem
from forecasting.schema import DS, LEAD_TIME_DAYS, MIN_BATCH, ON_HAND, PRODUCT_ID

log = logging.getLogger(__name__)

_DAYS = {"D": 1, "W": 7, "MS": 30.4375, "ME": 30.4375, "QS": 91.3125, "QE": 91.3125,
         "YS": 365.25, "YE": 365.25}


def round_up_to_batch(qty: np.ndarray, batch: np.ndarray) -> np.ndarray:
    """Round quantities up to a multiple of the batch size (no batch: up to a whole unit)."""
    q = np.ceil(np.maximum(qty, 0.0) - 1e-9) + 0.0
    b = np.where(np.isfinite(batch) & (batch > 0), batch, 1.0)
    return np.ceil(q / b - 1e-9) * b + 0.0  # + 0.0 turns -0.0 into 0.0


def check_inventory(inventory: pd.DataFrame) -> pd.DataFrame:
    """A clean copy: product_id str, on_hand >= 0, optional lead_time_days and min_batch."""
    problems = []
    if PRODUCT_ID not in inventory or ON_HAND not in inventory:
        raise DataError([Problem("inventory", None, "missing columns", 1,
                                 f"needs {PRODUCT_ID} and {ON_HAND}, found "
                                 f"{list(inventory.columns)}",
                                 "one row per product: product_id, on_hand[, lead_time_days, "
                                 "min_batch]")])
    inv = inventory.copy()
    inv[PRODUCT_ID] = inv[PRODUCT_ID].astype(str)
    for col in (ON_HAND, LEAD_TIME_DAYS, MIN_BATCH):
        if col not in inv:
            inv[col] = np.nan
            continue
        raw = inv[col]
        inv[col] = pd.to_numeric(raw, errors="coerce")
        bad = (inv[col].isna() & raw.notna() & (raw.astype(str).str.strip() != "")) | \
            (inv[col] < 0)
        if col == ON_HAND:
            bad |= inv[col].isna()
        if bad.any():
            problems.append(Problem(
                "inventory", col, "not a non-negative number", int(bad.sum()),
                f"products {inv.loc[bad, PRODUCT_ID].head(5).tolist()} have invalid {col}",
                f"{col} must be a number >= 0", inv.loc[bad].head(5).astype(str).to_dict("records")))
    dup = inv[PRODUCT_ID].duplicated(keep=False)
    if dup.any():
        problems.append(Problem("inventory", PRODUCT_ID, "duplicate product", int(dup.sum()),
                                f"products {inv.loc[dup, PRODUCT_ID].unique()[:5].tolist()} "
                                "appear more than once", "keep one row per product"))
    if problems:
        raise DataError(problems, context="inventory table")
    return inv


def production_plan(history: pd.DataFrame, inventory: pd.DataFrame, service_level: float = 0.95,
                    horizon: int | None = None, freq: str = "W", model=None) -> pd.DataFrame:
    """The plan per inventory product from a long demand history (unique_id = product_id).

    ``model`` is a fitted :class:`~forecasting.demand.pipeline.DemandModel` (e.g. the
    champion); without it the demand pipeline chooses and fits one on ``history``.
    """
    from forecasting.demand import freq as freqs
    from forecasting.demand.pipeline import forecast, prepare

    if not 0.5 <= service_level < 1:
        raise DataError([Problem("inventory", None, "service level", 1,
                                 f"service level {service_level} is outside [0.5, 1)",
                                 "use e.g. --service-level 0.95")])
    inv = check_inventory(inventory)
    f = freqs.canonical(freq)
    days = _DAYS[f]
    lead = np.ceil(inv[LEAD_TIME_DAYS].to_numpy(float) / days)
    h_needed = int(np.nanmax(lead)) if np.isfinite(lead).any() else 0
    h = max(horizon or 0, h_needed, 1)
    if model is None:
        model = forecast(history, horizon=h, freq=f, progress=False).model
    panel = prepare(history, f)
    h = min(h, model.intervals.paths_.shape[1]) if model is not None else h
    yhat, _, scale = model.forecast_panel(panel, h)
    paths = model.intervals.paths_[:, :h]
    pos = {uid: i for i, uid in enumerate(panel.ids)}
    future = panel.future(h)[DS].to_numpy().reshape(panel.n, h)
    rows = []
    for _, r in inv.iterrows():
        pid = r[PRODUCT_ID]
        L = int(lead[_]) if np.isfinite(lead[_]) and lead[_] > 0 else h
        L = min(max(L, 1), h)
        row = {PRODUCT_ID: pid, "lead_time_periods": L, ON_HAND: r[ON_HAND],
               MIN_BATCH: r[MIN_BATCH], "service_level": service_level}
        if pid not in pos:
            row.update(lead_time_demand=0.0, lead_time_demand_at_service_level=0.0,
                       safety_stock=0.0, recommended_quantity=0.0, stockout_date=pd.NaT,
                       note="no demand history")
            rows.append(row)
            continue
        i = pos[pid]
        mean = float(yhat[i, :L].sum())
        sums = np.clip(mean + (paths[:, :L] * scale[i, :L]).sum(axis=1), 0, None)
        q = float(max(np.quantile(sums, service_level), mean))
        cum = np.cumsum(yhat[i])
        out = np.flatnonzero(cum > r[ON_HAND])
        row.update(lead_time_demand=mean, lead_time_demand_at_service_level=q,
                   safety_stock=q - mean,
                   recommended_quantity=float(round_up_to_batch(
                       np.array([q - r[ON_HAND]]), np.array([r[MIN_BATCH]]))[0]),
                   stockout_date=pd.Timestamp(future[i, out[0]]) if len(out) else pd.NaT,
                   note="")
        rows.append(row)
    plan = pd.DataFrame(rows)
    plan["recommended_quantity"] = plan["recommended_quantity"] + 0.0  # no "-0.0"
    log.info("production plan: %d products, %d to make", len(plan),
             int((plan["recommended_quantity"] > 0).sum()))
    return plan


def plan_from_dataset(data, inventory: pd.DataFrame | None = None, service_level: float = 0.95,
                      horizon: int | None = None, freq: str = "W", model=None) -> pd.DataFrame:
    """:func:`production_plan` from a Dataset's orders (and its inventory table)."""
    from forecasting.demand.series import orders_to_series

    inv = inventory if inventory is not None else data.inventory
    if inv is None:
        raise DataError([Problem("inventory", None, "missing table", 0,
                                 "no inventory table given", "pass --inventory FILE")])
    series = orders_to_series(data.orders, freq=freq, products=data.products)
    return production_plan(series, inv, service_level, horizon, freq, model)
