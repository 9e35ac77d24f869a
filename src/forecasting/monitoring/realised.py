"""Realised performance: past scores and forecasts joined with what happened since.

Churn: a refresh as of C scored the customers active at C. Once the data reach C + horizon
(the churn model's ``horizon_days``, judged by the last completed order in the data), the
labels of ``(C, C + horizon]`` are known -- computed by :func:`forecasting.labels.churn_labels`,
exactly as in training -- and the scores are judged: ``realised_roc_auc``, ``realised_brier``,
``realised_lift_top_decile``, the base rate and a calibration table.

Forecasts: each forecast row (product, period) whose period is complete in the data is joined
with the actual net demand of that period (:func:`forecasting.demand.series.orders_to_series`,
the series the models are trained on): ``realised_wape`` and ``realised_bias`` (% of actual
volume) and the coverage of each interval, overall and per horizon step.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.churn.metrics import churn_metrics
from forecasting.demand import metrics as dm
from forecasting.demand.series import orders_to_series
from forecasting.labels import churn_labels, latest_complete_cutoff
from forecasting.schema import CUSTOMER_ID, DS, UNIQUE_ID, Y
from forecasting.settings import DEFAULT_LEVELS

CALIBRATION_BINS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def last_order_day(orders: pd.DataFrame) -> pd.Timestamp:
    """The day of the last completed order: how far the data reach."""
    return latest_complete_cutoff(orders, horizon_days=0)


def window_end(as_of: pd.Timestamp, horizon_days: int) -> pd.Timestamp:
    return pd.Timestamp(as_of).normalize() + pd.Timedelta(days=int(horizon_days))


def churn_outcomes(orders: pd.DataFrame, scores: pd.DataFrame, as_of, horizon_days: int,
                   lookback_days: int) -> pd.DataFrame:
    """The scored customers with their label (1 = churned) of ``(as_of, as_of + horizon]``.

    Customers scored but not active at ``as_of`` by the label definition (should not happen
    with the same lookback) are left out."""
    labels = churn_labels(orders, as_of, horizon_days=horizon_days,
                          lookback_days=lookback_days, require_complete=True)
    joined = scores.merge(labels.rename("churned").reset_index().assign(
        **{CUSTOMER_ID: lambda d: d[CUSTOMER_ID].astype(str)}), on=CUSTOMER_ID, how="inner")
    return joined


def calibration_table(y, proba, bins=CALIBRATION_BINS) -> pd.DataFrame:
    """Per probability band: customers, mean predicted probability, observed churn rate."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(proba, dtype=float)
    cut = pd.cut(p, bins=list(bins), include_lowest=True)
    t = (pd.DataFrame({"band": cut, "y": y, "p": p})
         .groupby("band", observed=True)
         .agg(customers=("y", "size"), predicted=("p", "mean"), observed=("y", "mean"))
         .reset_index())
    t["band"] = t["band"].astype(str)
    t["gap"] = t["observed"] - t["predicted"]
    return t


def churn_realised(outcomes: pd.DataFrame) -> tuple[dict[str, float], pd.DataFrame]:
    """``realised_*`` metrics and the calibration table of scored customers with labels."""
    y = outcomes["churned"].to_numpy(dtype=int)
    p = outcomes["churn_probability"].to_numpy(dtype=float)
    m = churn_metrics(y, p)
    figures = {f"realised_{k}": v for k, v in m.items()}
    figures["realised_customers"] = float(len(y))
    figures["realised_mean_probability"] = float(p.mean()) if len(p) else float("nan")
    return figures, calibration_table(y, p)


def actual_demand(orders: pd.DataFrame, freq: str, products: pd.DataFrame | None = None
                  ) -> pd.DataFrame:
    """Net demand per product and complete period (``unique_id``, ``ds``, ``y``)."""
    series = orders_to_series(orders, freq=freq, products=products)
    out = series[[UNIQUE_ID, DS, Y]].copy()
    out[UNIQUE_ID] = out[UNIQUE_ID].astype(str)
    out[DS] = pd.to_datetime(out[DS])
    return out


def forecast_outcomes(forecasts: pd.DataFrame, actual: pd.DataFrame) -> pd.DataFrame:
    """Forecast rows whose period is observed, with ``y`` and ``step`` (1 = first period
    after the history the forecast came from)."""
    fc = forecasts.copy()
    fc["step"] = fc.groupby(UNIQUE_ID)[DS].rank(method="dense").astype(int)
    last = actual[DS].max()
    joined = fc[fc[DS] <= last].merge(actual, on=[UNIQUE_ID, DS], how="left")
    joined[Y] = joined[Y].fillna(0.0)  # a product with no order in an observed period: 0
    return joined


def forecast_realised(outcomes: pd.DataFrame, levels=DEFAULT_LEVELS
                      ) -> tuple[dict[str, float], pd.DataFrame]:
    """``realised_wape``, ``realised_bias`` (%), ``realised_coverage_<level>`` overall, and a
    table per horizon step with the same figures."""
    def figures(d: pd.DataFrame) -> dict[str, float]:
        y, f = d[Y].to_numpy(dtype=float), d["yhat"].to_numpy(dtype=float)
        out = {"realised_wape": dm.wape(y, f), "realised_bias": dm.bias(y, f),
               "realised_rows": float(len(d))}
        for lv in levels:
            lo, hi = f"yhat_lo_{lv}", f"yhat_hi_{lv}"
            if lo in d and hi in d:
                out[f"realised_coverage_{lv}"] = dm.coverage(
                    y, d[lo].to_numpy(dtype=float), d[hi].to_numpy(dtype=float))
        return out

    overall = figures(outcomes)
    overall["realised_steps"] = float(outcomes["step"].nunique()) if len(outcomes) else 0.0
    per_step = pd.DataFrame([{"step": int(s), **figures(g)}
                             for s, g in outcomes.groupby("step", sort=True)])
    return overall, per_step
