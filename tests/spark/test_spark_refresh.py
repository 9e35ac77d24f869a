"""``forecasting refresh DATA_DIR --engine spark`` writes the snapshot a local refresh
writes: the scores, segments, follow-up list and forecasts equal (rows sorted by key, ids
and labels equal, numbers within 1e-9), the same model versions, each made current in its
store."""

from __future__ import annotations

import pandas as pd
from spark_helpers import assert_same

from forecasting import tracking
from forecasting.churn.gate import make_decide
from forecasting.churn.track import log_training
from forecasting.cli import main
from forecasting.demand import training
from forecasting.demand.models import is_pooled
from forecasting.demand.pipeline import DemandConfig
from forecasting.demand.series import orders_to_series
from forecasting.features import build_features
from forecasting.pipelines import store

AS_OF = "2024-12-31"
HORIZON = 4


def test_refresh_equal(spark, sample_folder, local_data, trained, tmp_path, monkeypatch):
    """Champions of both families in the registry: churn (LightGBM) and a demand model with
    per-series and pooled members (refitted in buckets and on the driver)."""
    example = build_features(local_data, AS_OF).head(5).reset_index()
    log_training(trained, "churn", example)
    tracking.promote("churn", make_decide())
    series = orders_to_series(local_data.known_at(AS_OF).orders, freq="W",
                              products=local_data.products)
    cfg = DemandConfig(horizon=HORIZON, freq="W", candidates=(
        "seasonal_naive", "ses", "theta", "croston", "sba", "decomposition"))
    result, _, _ = training.train(series, cfg)
    members = result.model.choice.members()
    assert any(not is_pooled(m) for m in members), members
    tracking.promote("demand", training.decide)

    snaps = {}
    for engine in ("local", "spark"):
        root = tmp_path / engine
        monkeypatch.setenv("FORECASTING_SNAPSHOT_ROOT", str(root))
        assert main(["refresh", str(sample_folder), "--as-of", AS_OF, "--horizon",
                     str(HORIZON), "--engine", engine]) == 0
        snaps[engine] = store.current_snapshot_dir(root)
    local, remote = snaps["local"], snaps["spark"]
    meta_l, meta_s = store.read_meta(local), store.read_meta(remote)
    for key in ("as_of", "churn_model_version", "demand_model_version", "rows", "notes"):
        assert meta_s[key] == meta_l[key], key
    assert meta_l["rows"]["churn.parquet"] > 0 and meta_l["rows"]["forecasts.parquet"] > 0
    for name, key in (("churn", ["customer_id"]), ("customers", ["customer_id"]),
                      ("followup", ["customer_id"]), ("forecasts", ["unique_id", "ds"]),
                      ("kpis", None)):
        a = pd.read_parquet(local / f"{name}.parquet")
        b = pd.read_parquet(remote / f"{name}.parquet")
        if key is None:
            pd.testing.assert_frame_equal(a, b)
        else:
            assert_same(a, b, key)
