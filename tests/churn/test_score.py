"""Scoring: one code path for batch (data set as of a date) and API rows (feature dicts)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from forecasting.churn.config import ChurnConfig
from forecasting.churn.pipeline import train_time_based
from forecasting.churn.score import score_customers, score_features
from forecasting.errors import ForecastingError
from forecasting.features import build_features


@pytest.fixture(scope="module")
def model(sample_data):
    cfg = ChurnConfig(n_cutoffs=3, trials=3)
    return train_time_based(sample_data, cfg).model


def test_batch_and_api_rows_agree(model, sample_data):
    batch = score_customers(sample_data, "2024-12-31", model=model)
    feats = build_features(sample_data, "2024-12-31")
    # what the API receives: JSON rows with plain values (categories as text, NaN as null,
    # numbers rounded to 10 significant digits): the scores must not jump
    records = json.loads(feats.reset_index().to_json(orient="records"))
    api = score_features(pd.DataFrame.from_records(records), model=model)
    merged = batch.merge(api, on="customer_id", suffixes=("_batch", "_api"))
    assert len(merged) == len(batch) == len(feats)
    np.testing.assert_allclose(merged["churn_probability_batch"],
                               merged["churn_probability_api"], rtol=0, atol=1e-6)
    assert (merged["reason_1_batch"] == merged["reason_1_api"]).all()


def test_model_bands_are_used_by_id_and_by_feature_rows(model, sample_data):
    """Bands saved in the model (not the defaults) decide, whichever way a customer is
    scored: the batch / snapshot path (by customer id) and feature rows (the API)."""
    import copy

    m = copy.copy(model)
    m.config = dict(model.config, bands=[0.05, 0.5])  # far from the defaults (0.3, 0.6)
    batch = score_customers(sample_data, "2024-12-31", model=m)
    rows = score_features(build_features(sample_data, "2024-12-31").reset_index(), model=m)
    merged = batch.merge(rows, on="customer_id", suffixes=("_id", "_rows"))
    assert len(merged) == len(batch)
    assert (merged["risk_band_id"] == merged["risk_band_rows"]).all()
    p = merged["churn_probability_id"]
    assert (merged.loc[(p >= 0.05) & (p < 0.3), "risk_band_id"] == "medium").all()
    assert ((p >= 0.05) & (p < 0.3)).any()  # customers the default bands would call low


def test_output_columns_bands_and_reasons(model, sample_data):
    out = score_customers(sample_data, "2024-12-31", model=model, bands=(0.2, 0.4))
    assert list(out.columns) == ["customer_id", "as_of", "churn_probability", "risk_band",
                                 "reason_1", "reason_2", "reason_3", "reasons",
                                 "model_version"]
    p, band = out["churn_probability"], out["risk_band"]
    assert (band[p >= 0.4] == "high").all() and (band[p < 0.2] == "low").all()
    assert (band[(p >= 0.2) & (p < 0.4)] == "medium").all()
    high = out[band == "high"].iloc[0]
    assert high["reason_1"] and high["reasons"][0]["text"] == high["reason_1"]
    assert all(r["contribution"] > 0 for rs in out["reasons"] for r in rs)


def test_single_row_and_missing_feature(model, sample_data):
    feats = build_features(sample_data, "2024-12-31").head(1)
    one = score_features(feats, model=model)
    assert len(one) == 1 and one["customer_id"].iloc[0] == feats.index[0]
    with pytest.raises(ForecastingError, match="csat_last"):
        score_features(feats.drop(columns=["csat_last"]), model=model)


def test_as_of_before_any_order_is_a_clear_error(model, sample_data):
    with pytest.raises(ForecastingError, match="nothing to score"):
        score_customers(sample_data, "2001-01-01", model=model)


def test_table_model_cannot_score_a_data_set(model, sample_data):
    model = type(model)(model.estimator, model.features, model.config, kind="table")
    with pytest.raises(ForecastingError, match="--table"):
        score_customers(sample_data, "2024-12-31", model=model)


def test_one_pass_scoring_equals_predict_proba(model, sample_data):
    """``score`` takes probabilities and reasons from one pass (contributions + bias);
    they are the model's probabilities, to rounding."""
    feats = build_features(sample_data, "2024-12-31")
    scored = model.score(feats)
    np.testing.assert_allclose(scored["churn_probability"], model.predict_proba(feats),
                               rtol=0, atol=1e-12)
