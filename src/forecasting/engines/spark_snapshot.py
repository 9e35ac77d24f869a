"""The parts of a snapshot (:mod:`forecasting.pipelines.snapshot`) that ``refresh --engine
spark`` computes on Spark: churn scores (and the features they come from), segments and
demand forecasts. Everything else of a refresh (reading the data for the KPIs, the follow-up
list and the page tables, the store, the CURRENT swap, the history, the lock) is unchanged.

* churn: :func:`forecasting.engines.spark.features` once, then
  :func:`forecasting.engines.spark.score` on them; the features also feed the follow-up list
  (collected to the driver, like the scores);
* segments: :func:`forecasting.engines.spark.segments` with those scores;
* forecasts: the demand history is built from the orders known on the as-of day by the
  local code (:func:`forecasting.demand.series.orders_to_series`: one row per product and
  period, small next to the orders), then forecast by
  :mod:`forecasting.engines.spark_demand` (the champion's :func:`predict`, or the whole
  pipeline when there is no champion).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from pyspark.sql import SparkSession

from forecasting import io
from forecasting.analytics.segments import SegmentConfig
from forecasting.churn.model import ChurnModel
from forecasting.demand.pipeline import DemandModel
from forecasting.engines import DEFAULT_SPARK_MASTER
from forecasting.engines import spark as engine
from forecasting.engines import spark_demand
from forecasting.engines.spark_data import read_tables, spark_session
from forecasting.schema import CUSTOMER_ID
from forecasting.settings import DEFAULT_LOOKBACK_DAYS


class SparkParts:
    """Scores, segments and forecasts of one snapshot on Spark, over the validated tables of
    ``data_dir`` (read once)."""

    def __init__(self, data_dir: str | Path, master: str = DEFAULT_SPARK_MASTER,
                 options: io.ReadOptions | None = None, spark: SparkSession | None = None):
        self.spark = spark_session(master, spark)
        self.tables = read_tables(data_dir, self.spark, options=options)
        self.scores = None

    def churn(self, as_of, model: ChurnModel) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(scores as :func:`~forecasting.churn.score.score_features` returns them, the
        features indexed by customer); the local engine's error when nobody is active."""
        lookback = int(model.config.get("lookback_days", DEFAULT_LOOKBACK_DAYS))
        feats = engine.features(self.tables, as_of, lookback).persist()
        engine.check_active(feats, as_of, lookback)
        self.scores = engine.score(self.tables, as_of, model, feats=feats).persist()
        scores = engine.to_pandas(self.scores).drop(columns="as_of")
        scores["reasons"] = scores["reasons"].map(json.loads)
        return scores, engine.to_pandas(feats).set_index(CUSTOMER_ID)

    def segments(self, as_of, cfg: SegmentConfig, scored: bool) -> pd.DataFrame:
        """:func:`forecasting.analytics.segments.segments`, with the scores of
        :meth:`churn` when ``scored``."""
        seg = engine.segments(self.tables, as_of, cfg,
                              churn_scores=self.scores if scored else None)
        return engine.to_pandas(seg)

    def forecasts(self, history: pd.DataFrame, model: DemandModel | None, horizon: int,
                  freq: str, levels) -> pd.DataFrame:
        """:func:`forecasting.demand.pipeline.latest_forecasts` of ``history`` on Spark."""
        frame = spark_demand.from_pandas(history, self.spark)
        if model is not None:
            return spark_demand.predict(model, frame, horizon)
        return spark_demand.forecast(frame, horizon, freq=freq, levels=levels).table
