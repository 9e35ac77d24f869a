"""Production plan: how much of each product to make, from the demand forecast distribution.

Every product of the inventory table gets one row:

* ``lead_time_periods`` = ceil(lead_time_days / days per period)
  (:func:`~forecasting.demand.freq.days_per_period`), looked up by ``product_id``; a product
  without a lead time uses ``default_lead_time_days`` (:data:`DEFAULT_LEAD_TIME_DAYS`, or the
  ``--default-lead-time-days`` option), and its note says so;
* the forecast horizon always covers the longest lead time: a model trained and calibrated for
  fewer steps is **extended** (local members refitted for the longer horizon, global ones
  hold their last step, intervals widened by sqrt(step)) and the note of every row whose lead
  time goes beyond its calibration says so;
* ``lead_time_demand`` = the sum of the point forecasts over the lead time;
* ``lead_time_demand_at_service_level`` = the ``service_level`` quantile of the *sum* of
  demand over the lead time. The sum's distribution comes from sample paths: the point path
  plus each backtest error path of the product's history group (scaled to the product and
  period, so errors keep their correlation across periods), clipped at 0. It is not the sum
  of per-period quantiles, which would overstate the safety stock;
* ``safety_stock`` = that quantile minus ``lead_time_demand`` (never negative);
* ``recommended_quantity`` = max(0, quantile - on_hand), rounded **up** to a multiple of
  ``min_batch`` (when given), so an overstocked product gets 0 and one without stock a
  positive quantity; a product launched a few weeks ago is forecast like any other (its
  ``history`` is ``new`` or ``short``) and gets a quantity from that forecast;
* ``stockout_date`` = the first forecast period whose cumulative demand exceeds ``on_hand``
  if nothing is made (empty when stock lasts past the horizon).

A product with no order at all gets a row with quantity 0 and the note "no demand history
(never ordered)"; when no inventory product has any history, no model is fitted.
With ``adjust`` (``--churn-adjust``: :func:`forecasting.demand.churn_adjust.adjuster`) the
forecast and its error scale are multiplied by ``yhat_churn_adjusted / yhat`` per product and
period, and the note gives the share removed over the lead time.
The frequency is the model's own; a ``freq`` that contradicts it is an error.

Example:
    >>> import numpy as np, pandas as pd
    >>> round_up_to_batch(np.array([0.0, 1.0, 26.0]), np.array([10.0, 10.0, np.nan])).tolist()
    [0.0, 10.0, 26.0]
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from forecasting.demand import freq as freqs
from forecasting.errors import DataError, ForecastingError, Problem
from forecasting.demand.pipeline import forecast, prepare, to_table
from forecasting.demand.series import orders_to_series
from forecasting.settings import DEFAULT_FREQ
from forecasting.schema import DS, LEAD_TIME_DAYS, MIN_BATCH, ON_HAND, PRODUCT_ID, UNIQUE_ID

log = logging.getLogger(__name__)

DEFAULT_LEAD_TIME_DAYS = 28.0  # a product whose lead time is not given: four weeks
DEFAULT_PLAN_FREQ = DEFAULT_FREQ  # when the plan fits its own model from orders


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
    return inv.reset_index(drop=True)


def plan_freq(freq: str | None, model=None) -> str:
    """The plan's frequency: the model's own; ``freq`` when there is no model (weekly by
    default); an error when ``freq`` is given and contradicts the model's."""
    if model is None:
        return freqs.canonical(freq or DEFAULT_PLAN_FREQ)
    own = freqs.canonical(model.freq)
    if freq is not None and freqs.canonical(freq) != own:
        raise ForecastingError(
            f"the demand model forecasts {own} periods but --freq {freq} was given: drop "
            f"--freq (the plan uses the model's own frequency) or train a "
            f"{freqs.canonical(freq)} model")
    return own


def lead_time_periods(inv: pd.DataFrame, freq: str, default_days: float = DEFAULT_LEAD_TIME_DAYS
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Lead time in periods per inventory row (at least 1), and whether it was the default."""
    if not np.isfinite(default_days) or default_days < 0:
        raise ForecastingError(f"the default lead time must be a number of days >= 0, not "
                               f"{default_days}")
    days = inv[LEAD_TIME_DAYS].to_numpy(float)
    unknown = ~np.isfinite(days)
    days = np.where(unknown, default_days, days)
    return np.maximum(np.ceil(days / freqs.days_per_period(freq) - 1e-9), 1).astype(int), unknown


def production_plan(history: pd.DataFrame, inventory: pd.DataFrame, service_level: float = 0.95,
                    horizon: int | None = None, freq: str | None = None, model=None,
                    default_lead_time_days: float = DEFAULT_LEAD_TIME_DAYS,
                    adjust=None) -> pd.DataFrame:
    """The plan per inventory product from a long demand history (unique_id = product_id).

    ``model`` is a fitted :class:`~forecasting.demand.pipeline.DemandModel` (e.g. the
    champion); without it the demand pipeline chooses and fits one on ``history`` for a
    horizon that covers the longest lead time.
    """
    if not 0.5 <= service_level < 1:
        raise DataError([Problem("inventory", None, "service level", 1,
                                 f"service level {service_level} is outside [0.5, 1)",
                                 "use e.g. --service-level 0.95")])
    inv = check_inventory(inventory)
    f = plan_freq(freq, model)
    lead, default_used = lead_time_periods(inv, f, default_lead_time_days)
    h = int(max(horizon or 0, lead.max() if len(lead) else 1, 1))
    if not inv[PRODUCT_ID].isin(history[UNIQUE_ID].astype(str)).any():
        return _no_history_plan(inv, lead, default_used, service_level,
                                default_lead_time_days)
    if model is None:
        model = forecast(history, horizon=h, freq=f, progress=False).model
    panel = prepare(history, f)
    yhat, _, scale = model.forecast_panel(panel, h)
    factor = np.ones_like(yhat)
    if adjust is not None:
        adj = adjust(to_table(panel, yhat, {}))["yhat_churn_adjusted"].to_numpy()
        with np.errstate(all="ignore"):
            factor = np.where(yhat > 0, adj.reshape(yhat.shape) / yhat, 1.0)
        plain = yhat
        yhat, scale = yhat * factor, scale * factor
    steps = model.calibrated_steps
    groups = model.groups(panel)
    pos = {uid: i for i, uid in enumerate(panel.ids)}
    future = panel.future(h)[DS].to_numpy().reshape(panel.n, h)
    rows = []
    for k, r in enumerate(inv.itertuples(index=False)):
        rec = r._asdict()
        pid = rec[PRODUCT_ID]
        L = int(lead[k])
        notes = [f"lead time unknown: default {default_lead_time_days:g} days"] \
            if default_used[k] else []
        row = {PRODUCT_ID: pid, "lead_time_periods": L, ON_HAND: rec[ON_HAND],
               MIN_BATCH: rec[MIN_BATCH], "service_level": service_level}
        if pid not in pos:
            row.update(NO_HISTORY, note="; ".join([NO_HISTORY_NOTE, *notes]))
            rows.append(row)
            continue
        i = pos[pid]
        if L > steps:
            notes.append(f"forecast {model.extended}")
        if adjust is not None:
            removed = 1 - yhat[i, :L].sum() / max(plain[i, :L].sum(), 1e-12)
            notes.append(f"churn-adjusted: {100 * removed:.1f}% of lead-time demand removed")
        if groups[i] != "full":
            notes.append(f"{groups[i]} history ({int(panel.lengths[i])} periods)")
        paths = model.paths(groups[i], L)
        mean = float(yhat[i, :L].sum())
        sums = np.clip(mean + (paths * scale[i, :L]).sum(axis=1), 0, None)
        q = float(max(np.quantile(sums, service_level), mean))
        cum = np.cumsum(yhat[i])
        out = np.flatnonzero(cum > rec[ON_HAND])
        row.update(history=groups[i], lead_time_demand=mean,
                   lead_time_demand_at_service_level=q, safety_stock=q - mean,
                   recommended_quantity=float(round_up_to_batch(
                       np.array([q - rec[ON_HAND]]), np.array([rec[MIN_BATCH]]))[0]),
                   stockout_date=pd.Timestamp(future[i, out[0]]) if len(out) else pd.NaT,
                   note="; ".join(notes))
        rows.append(row)
    plan = pd.DataFrame(rows)
    plan["recommended_quantity"] = plan["recommended_quantity"] + 0.0  # no "-0.0"
    log.info("production plan: %d products, %d to make (%s periods, horizon %d)", len(plan),
             int((plan["recommended_quantity"] > 0).sum()), f, h)
    return plan


NO_HISTORY_NOTE = "no demand history (never ordered): nothing to forecast from, quantity 0"
NO_HISTORY = dict(history="", lead_time_demand=0.0, lead_time_demand_at_service_level=0.0,
                  safety_stock=0.0, recommended_quantity=0.0, stockout_date=pd.NaT)


def _no_history_plan(inv: pd.DataFrame, lead: np.ndarray, default_used: np.ndarray,
                     service_level: float, default_days: float) -> pd.DataFrame:
    """The plan when no inventory product has any demand history: a row each, quantity 0."""
    rows = []
    for k, r in enumerate(inv.itertuples(index=False)):
        rec = r._asdict()
        notes = [NO_HISTORY_NOTE] + ([f"lead time unknown: default {default_days:g} days"]
                                     if default_used[k] else [])
        rows.append({PRODUCT_ID: rec[PRODUCT_ID], "lead_time_periods": int(lead[k]),
                     ON_HAND: rec[ON_HAND], MIN_BATCH: rec[MIN_BATCH],
                     "service_level": service_level, **NO_HISTORY, "note": "; ".join(notes)})
    return pd.DataFrame(rows)


def plan_from_dataset(data, inventory: pd.DataFrame | None = None, service_level: float = 0.95,
                      horizon: int | None = None, freq: str | None = None, model=None,
                      default_lead_time_days: float = DEFAULT_LEAD_TIME_DAYS,
                      churn_model=None) -> pd.DataFrame:
    """:func:`production_plan` from a Dataset's orders (and its inventory table); with
    ``churn_model`` on churn-adjusted demand."""
    inv = inventory if inventory is not None else data.inventory
    if inv is None:
        raise DataError([Problem("inventory", None, "missing table", 0,
                                 "no inventory table given", "pass --inventory FILE")])
    f = plan_freq(freq, model)
    series = orders_to_series(data.orders, freq=f, products=data.products)
    adjust = None
    if churn_model is not None:
        # heavy: churn adjustment loads the churn stack (lightgbm, sklearn) only when asked for
        from forecasting.demand.churn_adjust import adjuster, history_end

        adjust = adjuster(data, churn_model, history_end(series, f), f)
    return production_plan(series, inv, service_level, horizon, f, model,
                           default_lead_time_days, adjust)
