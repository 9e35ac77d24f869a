"""The object logged to MLflow: estimator + feature list + config, scoring with reasons.

``ChurnModel.predict(features)`` returns probabilities and reasons, never labels; the
MLflow pyfunc returns exactly that (see :func:`forecasting.tracking.log_model`). The feature
list and the config travel inside the model and are checked when it scores.

Output columns of :meth:`ChurnModel.predict`: ``customer_id`` (when the input has it as a
column or index), ``churn_probability``, ``risk_band`` (low/medium/high), ``reason_1`` ..
``reason_3`` (text, empty when fewer reasons), ``reasons`` (JSON list of
``{"feature", "value", "contribution", "text"}``).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
import pandas as pd

from forecasting.churn.config import DEFAULT_BANDS, check_bands
from forecasting.churn.reasons import N_REASONS, top_reasons
from forecasting.schema import CUSTOMER_ID

log = logging.getLogger(__name__)

PROBABILITY = "churn_probability"
RISK_BAND = "risk_band"
REASONS = "reasons"
REASON_COLUMNS = [f"reason_{i}" for i in range(1, N_REASONS + 1)]
BANDS = ("low", "medium", "high")


def risk_bands(proba: np.ndarray, bands: tuple[float, float] = DEFAULT_BANDS) -> np.ndarray:
    """low below ``bands[0]``, medium below ``bands[1]``, high from ``bands[1]`` on.

    >>> risk_bands(np.array([0.1, 0.3, 0.59, 0.6]), (0.3, 0.6)).tolist()
    ['low', 'medium', 'medium', 'high']
    """
    b0, b1 = check_bands(bands)
    return np.select([proba < b0, proba < b1], ["low", "medium"], "high").astype(object)


class ChurnModel:
    """A fitted churn estimator with the features and settings it was trained with.

    ``kind`` is ``time`` (features from :func:`forecasting.features.build_features`) or
    ``table`` (columns of a labelled snapshot). ``info`` holds what the run knew: cutoffs,
    horizon, holdout fingerprint, metrics.
    """

    def __init__(self, estimator: Any, features: list[str], config: dict[str, Any],
                 kind: str = "time", info: dict[str, Any] | None = None,
                 id_column: str = CUSTOMER_ID):
        self.estimator = estimator
        self.features = list(features)
        self.config = dict(config)
        self.kind = kind
        self.info = dict(info or {})
        self.id_column = id_column
        self.version: str | None = None  # set by whoever loads it from the registry

    @property
    def bands(self) -> tuple[float, float]:
        return tuple(self.config.get("bands", DEFAULT_BANDS))  # type: ignore[return-value]

    def _ids(self, df: pd.DataFrame) -> pd.Series | None:
        if self.id_column in df.columns:
            return df[self.id_column].astype(str).reset_index(drop=True)
        if df.index.name == self.id_column:
            return pd.Series(df.index.astype(str), name=self.id_column)
        return None

    def predict_proba(self, df: pd.DataFrame) -> np.ndarray:
        """Churn probability per row (column order and extra columns do not matter)."""
        # extra columns are ignored, missing ones reported by FeatureFrame.transform
        return self.estimator.predict_proba(df)[:, 1]

    def explain(self, df: pd.DataFrame, n: int = N_REASONS) -> list[list[dict]]:
        """Top ``n`` risk-raising reasons per row; empty lists when the model has no
        per-row contributions."""
        if not hasattr(self.estimator, "contributions"):
            return [[] for _ in range(len(df))]
        return top_reasons(self.estimator.contributions(df), df, n)

    def score(self, df: pd.DataFrame, bands: tuple[float, float] | None = None,
              reasons: bool = True) -> pd.DataFrame:
        """Probabilities, risk bands and reasons; ``reasons`` column holds Python lists."""
        both = getattr(self.estimator, "proba_and_contributions", None)
        if reasons and both is not None:  # one pass: probabilities and reasons
            proba, contributions = both(df)
            lists = top_reasons(contributions, df, N_REASONS)
        else:
            proba = self.predict_proba(df)
            lists = self.explain(df) if reasons else [[] for _ in range(len(df))]
        columns: dict[str, Any] = {}
        ids = self._ids(df)
        if ids is not None:
            columns[CUSTOMER_ID] = ids.to_numpy()
        columns[PROBABILITY] = np.asarray(proba, dtype=float)
        columns[RISK_BAND] = risk_bands(columns[PROBABILITY], bands or self.bands)
        for i, col in enumerate(REASON_COLUMNS):
            columns[col] = [r[i]["text"] if len(r) > i else "" for r in lists]
        columns[REASONS] = lists
        columns["model_version"] = [self.version] * len(lists)
        return pd.DataFrame(columns)  # one construction: far cheaper than column inserts

    def predict(self, df: pd.DataFrame) -> pd.DataFrame:
        """The MLflow pyfunc output: like :meth:`score`, reasons as a JSON string."""
        out = self.score(df)
        out[REASONS] = [json.dumps(r) for r in out[REASONS]]
        return out

    def describe(self) -> dict[str, Any]:
        """Feature list, config and run info: logged beside the model and stored in it."""
        return {"kind": self.kind, "features": self.features, "config": self.config,
                "estimator": repr(self.estimator), "info": self.info}
