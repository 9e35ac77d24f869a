"""Sample data, a trained and promoted churn model, and a snapshot store with history.

The store is written in the layout of ``forecasting refresh`` (see
:mod:`forecasting.monitoring.store`): ``build_snapshot`` writes the snapshot folder and
:func:`record_refresh` the score and forecast history beside it. A refresh as of a past date
is built from the data as they were then (tables cut at that date), as a refresh run on that
day would have been.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from monitor_store import AS_OF, cut_at, record_refresh


@pytest.fixture(scope="session")
def monitored(tmp_path_factory):
    """Sample data to 2024-12-31, a churn model trained and promoted on it (SQLite MLflow),
    and a store with one refresh as of 2024-06-30 built from the data known then.

    Yields a dict: data (full folder), store, snapshot_id, tracking_uri, env."""
    from forecasting import sample
    from forecasting.cli import main

    tmp = tmp_path_factory.mktemp("monitored")
    data = sample.generate(customers=500, products=6, start="2023-01-01", end="2024-12-31",
                           seed=3)
    full = tmp / "data"
    sample.write(data, full, fmt="parquet")
    env = {"MLFLOW_TRACKING_URI": f"sqlite:///{tmp / 'mlflow.db'}",
           "FORECASTING_MODELS_DIR": str(tmp / "models"),
           "FORECASTING_SNAPSHOT_ROOT": str(tmp / "store")}
    old = dict(os.environ)
    os.environ.update(env)
    try:
        assert main(["train", "churn", str(full), "--candidates", "logreg,lgbm_default",
                     "--n-cutoffs", "2", "--seed", "0"]) == 0
        assert main(["promote", "churn"]) == 0
        past = cut_at(data.tables(), AS_OF, tmp / "data-2024-06-30")
        sid = record_refresh(past, AS_OF, tmp / "store",
                             created=pd.Timestamp("2024-06-30 23:00"))
    finally:
        os.environ.clear()
        os.environ.update(old)
    yield {"data": full, "store": tmp / "store", "snapshot_id": sid, "env": env,
           "tables": data.tables(), "tmp": tmp}
