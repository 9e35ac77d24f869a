"""Batch and on-request churn scoring with the champion model.

* :func:`score_customers` -- a data set as of a date: features from
  :func:`forecasting.features.build_features`, then :func:`score_features`.
* :func:`score_features` -- feature rows directly (what the API receives).

Both return one row per customer: ``customer_id``, ``churn_probability``, ``risk_band``
(low/medium/high by ``bands``), ``reason_1`` .. ``reason_3`` (text), ``reasons`` (list of
``{"feature", "value", "contribution", "text"}``) and ``model_version``.

Example (with a model at hand instead of the registry)::

    scores = score_customers(read_dataset("data/"), "2024-12-31", model=my_churn_model)
"""

from __future__ import annotations

import logging

import pandas as pd

from forecasting import tracking
from forecasting.churn.config import MODEL_NAME, check_bands
from forecasting.features import build_features
from forecasting.labels import active_customers, completed
from forecasting.settings import DEFAULT_LOOKBACK_DAYS
from forecasting.churn.model import ChurnModel
from forecasting.cutoff import Cutoff
from forecasting.dataset import Dataset
from forecasting.errors import ForecastingError

log = logging.getLogger(__name__)


def load_champion(name: str = MODEL_NAME, alias: str = "champion") -> ChurnModel:
    """The model behind ``alias`` of registered model ``name``, with ``version`` set."""
    model, ref = tracking.load_model(name, alias)
    if not isinstance(model, ChurnModel):
        raise ForecastingError(
            f"registered model '{name}' version {ref.version} is not a churn model "
            f"({type(model).__name__})")
    model.version = ref.version
    return model


def score_features(features: pd.DataFrame, model: ChurnModel | None = None,
                   bands: tuple[float, float] | None = None,
                   reasons: bool = True) -> pd.DataFrame:
    """Score feature rows (index or column ``customer_id``); the champion when no model.

    ``bands`` default to those stored in the model (0.3, 0.6 unless configured).
    """
    model = model or load_champion()
    if bands is not None:
        bands = check_bands(bands)
    return model.score(features, bands=bands, reasons=reasons)


def score_customers(data: Dataset, as_of, model: ChurnModel | None = None,
                    bands: tuple[float, float] | None = None) -> pd.DataFrame:
    """Scores of every customer active at ``as_of`` (an order in the model's lookback).

    ``bands`` default to those stored in the model, exactly as for :func:`score_features`
    (one customer gets one band whichever way it is scored).

    ``as_of`` is required: it is the cutoff of the features (a date means the end of that
    day). Customers come out sorted by descending churn probability.
    """
    model = model or load_champion()
    features = customer_features(data, as_of, model)
    out = score_features(features, model, bands)  # type: ignore[arg-type]
    out.insert(1, "as_of", f"{Cutoff.of(as_of).day:%Y-%m-%d}")
    return out.sort_values("churn_probability", ascending=False, kind="stable").reset_index(
        drop=True)


def customer_features(data: Dataset, as_of, model: ChurnModel) -> pd.DataFrame:
    """The features ``model`` scores, as of ``as_of`` with the model's lookback, for every
    customer with an order in it; an error saying why when there is none."""
    if model.kind != "time":
        raise ForecastingError(
            f"model version {model.version} was trained with --table on a snapshot's columns; "
            "scoring a data set needs a model trained with 'forecasting train churn DATA_DIR'")
    lookback = int(model.config.get("lookback_days", DEFAULT_LOOKBACK_DAYS))
    features = None
    if _has_active_customers(data, as_of, lookback):
        features = build_features(data, as_of, lookback_days=lookback)
    if features is None or features.empty:
        raise ForecastingError(
            f"no customer has an order in the {lookback} days up to {as_of}: nothing to score "
            "(is --as-of inside the data's date range?)")
    return features


def champion_scores(data: Dataset, as_of) -> pd.DataFrame | None:
    """The champion's scores as of ``as_of`` (see :func:`score_customers`), or None with a
    log line saying why when there is no usable champion (analytics then use RFM rules)."""
    try:
        return score_customers(data, as_of)
    except ForecastingError as exc:
        log.info("no usable champion churn model (%s); churn probabilities come from RFM "
                 "rules", str(exc).splitlines()[0])
        return None


def _has_active_customers(data: Dataset, as_of, lookback_days: int) -> bool:
    """Whether any customer is active at ``as_of`` (see :mod:`forecasting.labels`)."""
    return len(active_customers(completed(data.orders), as_of, lookback_days)) > 0
