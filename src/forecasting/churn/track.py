"""Logging a churn training result to MLflow, through :mod:`forecasting.tracking` only.

One run in experiment ``churn``: params (config, cutoffs, horizon, data window, row counts,
base rate, the chosen candidate and why), metrics (PRODUCT.md names; candidates and baselines
with their prefix), every candidate's figures (``candidates.csv``), the model's holdout
predictions (``holdout_predictions.parquet``, for the paired gate), plots, the feature list
and config (also inside the model), and the model itself as a pyfunc whose ``predict``
returns probabilities and reasons. The registered version gets ``challenger`` when the run
succeeds.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import pandas as pd

from forecasting.churn.config import EXPERIMENT
from forecasting import tracking
from forecasting.churn.plots import all_figures

log = logging.getLogger(__name__)

FINGERPRINT_TAG = "holdout_fingerprint"
PREDICTIONS_ARTIFACT = "holdout_predictions.parquet"  # the gate pairs champion and challenger
REFERENCE_ARTIFACT = "reference.json"  # the monitor's drift reference (also in model.info)


def predictions_table(result) -> pd.DataFrame:
    """Row id, label and the model's probability on the holdout (or out-of-fold) rows."""
    ids = (result.ids_holdout if result.ids_holdout is not None
           else [str(i) for i in range(len(result.y_holdout))])
    return pd.DataFrame({"row_id": pd.Series(ids, dtype=str), "churned": result.y_holdout,
                         "churn_probability": result.proba_holdout["model"]})


@dataclass
class LoggedRun:
    run_id: str
    model_name: str
    version: str


def log_training(result, model_name: str, input_example: pd.DataFrame,
                 run_name: str | None = None) -> LoggedRun:
    """Log ``result`` (a pipeline ``TrainResult``) as one run; returns run id and version."""
    model = result.model
    tags = {"mode": result.mode, FINGERPRINT_TAG: result.fingerprint, "family": "churn"}
    with tracking.run(EXPERIMENT, run_name=run_name or f"churn-{result.mode}",
                      tags=tags) as run_id:
        tracking.log_params(result.params)
        tracking.log_metrics(result.metrics)
        tracking.log_dict(model.describe(), "model_description.json")
        tracking.log_dict({"features": model.features}, "features.json")
        importance = (model.estimator.feature_importance()
                      if hasattr(model.estimator, "feature_importance") else None)
        if importance is not None:
            tracking.log_table(importance.rename("gain").rename_axis("feature").reset_index(),
                               "feature_importance.csv")
        if result.candidates is not None:
            tracking.log_table(result.candidates, "candidates.csv")
        tracking.log_table(predictions_table(result), PREDICTIONS_ARTIFACT)
        if getattr(result, "reference", None) is not None:
            tracking.log_dict(result.reference, REFERENCE_ARTIFACT)
        prefix = "holdout" if result.mode == "time" else "cv_out_of_fold"
        for path, fig in all_figures(result.y_holdout, result.proba_holdout, importance,
                                     prefix).items():
            tracking.log_figure(fig, path)
        with warnings.catch_warnings():  # MLflow's advice on type hints does not apply
            warnings.simplefilter("ignore", UserWarning)
            version = tracking.log_model(
                model, model_name, input_example=_plain(input_example),
                pip_requirements=tracking.default_pip_requirements(),
                metadata={"features": model.features, "kind": model.kind,
                          FINGERPRINT_TAG: result.fingerprint})
    log.info("logged run %s, model %s version %s", run_id, model_name, version)
    return LoggedRun(run_id=run_id, model_name=model_name, version=version)


def _plain(example: pd.DataFrame) -> pd.DataFrame:
    """Category columns as text, so that MLflow can infer a signature (strings)."""
    out = example.copy()
    for c in out.columns:
        if isinstance(out[c].dtype, pd.CategoricalDtype):
            out[c] = out[c].astype(object).where(out[c].notna(), None)
    return out
