"""`forecasting refresh` and the snapshot store, in-process: versions, CURRENT, history, pruning,
the lock, a refresh that fails, a damaged table refused (real MLflow, tiny champion models)."""

from __future__ import annotations

import logging
import os
import shutil

import pandas as pd
import pytest

from forecasting.cli import main
from forecasting.errors import ForecastingError
from forecasting.pipelines import store


@pytest.fixture(scope="module")
def refreshed(champions, tmp_path_factory):
    """Two refreshes (2024-08-31, then the default as-of) with --keep 1 into a fresh store."""
    tmp, data, env = champions
    root = tmp_path_factory.mktemp("refresh") / "snapshots"
    saved = dict(os.environ)
    handlers = logging.getLogger().handlers[:]
    os.environ.update(env)
    os.environ["FORECASTING_SNAPSHOT_ROOT"] = str(root)
    os.environ.pop("FORECASTING_SNAPSHOT_DIR", None)
    try:
        assert main(["-q", "refresh", str(data), "--as-of", "2024-08-31", "--keep", "1"]) == 0
        first = store.current_id(root)
        assert main(["-q", "refresh", str(data), "--keep", "1"]) == 0
        yield root, data, env, first, store.current_id(root)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        logging.getLogger().handlers[:] = handlers


@pytest.fixture
def in_store(refreshed, monkeypatch):
    root, data, env, first, second = refreshed
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("FORECASTING_SNAPSHOT_ROOT", str(root))
    monkeypatch.delenv("FORECASTING_SNAPSHOT_DIR", raising=False)
    return refreshed


def test_refresh_makes_a_checked_version_current_and_keeps_the_history(in_store):
    root, data, env, first, second = in_store
    assert store.ID_PATTERN.match(first) and first.endswith("-asof-2024-08-31")
    assert second.endswith("-asof-2024-09-30") and second > first  # the data's last order date
    assert (root / "CURRENT").read_text().strip() == second
    assert store.current_snapshot_dir(root) == root / second
    # --keep 1: the first snapshot is gone, its history stays
    assert [s.snapshot_id for s in store.list_snapshots(root)] == [second]
    assert not (root / first).exists()
    meta = store.check_snapshot(root / second)
    assert meta["snapshot_id"] == second and meta["as_of"] == "2024-09-30"
    assert meta["rows"]["churn.parquet"] > 50 and meta["churn_model_version"] == "1"
    scores = store.read_score_history(root)
    assert list(scores.columns) == store.SCORE_COLUMNS
    assert scores.groupby("snapshot_id")["as_of"].first().to_dict() == {
        first: "2024-08-31", second: "2024-09-30"}
    assert scores["churn_probability"].between(0, 1).all()
    assert set(scores["risk_band"]) <= {"low", "medium", "high"}
    assert set(scores["model_version"]) == {"1"}
    cid = scores.loc[scores["snapshot_id"] == second, "customer_id"].iloc[0]
    one = store.read_score_history(root, customer_id=cid)
    assert set(one["customer_id"]) == {cid} and one["snapshot_id"].is_unique
    assert second in set(one["snapshot_id"])
    fc = store.read_forecast_history(root)
    for col in ("unique_id", "ds", "yhat", "yhat_lo_80", "yhat_hi_95", "history",
                "model_version", "as_of", "snapshot_id"):
        assert col in fc.columns, col
    assert set(fc["snapshot_id"]) == {first, second} and set(fc["model_version"]) == {"1"}
    assert not [p for p in root.iterdir() if p.name.startswith(store.PARTIAL)]


def test_a_second_refresh_is_refused_while_one_holds_the_lock(in_store, capsys):
    root, data, *_ = in_store
    before = store.current_id(root)
    with store.refresh_lock(root):
        assert main(["refresh", str(data)]) == 1
    err = capsys.readouterr().err
    assert "another refresh is running" in err and f"pid {os.getpid()}" in err
    assert "Traceback" not in err
    assert store.current_id(root) == before


def test_a_failed_refresh_exits_1_and_leaves_the_current_snapshot(in_store, monkeypatch,
                                                                 tmp_path, capsys):
    root, data, *_ = in_store
    before = store.current_id(root)
    # a registry without champions: the new snapshot would serve no scores, so it is refused
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'empty.db'}")
    assert main(["refresh", str(data)]) == 1
    err = capsys.readouterr().err
    assert "would serve no churn scores" in err and "the current snapshot stays" in err
    assert store.current_id(root) == before
    assert not [p for p in root.iterdir() if p.name.startswith(store.PARTIAL)]
    # unreadable input, a date that is not one: the same
    assert main(["refresh", str(tmp_path / "no-such-folder")]) == 1
    assert main(["refresh", str(data), "--as-of", "30/06/2024x"]) == 1
    assert "is not a date" in capsys.readouterr().err
    assert store.current_id(root) == before


def test_a_truncated_table_is_refused_before_it_becomes_current(in_store):
    root, *_ = in_store
    before = store.current_id(root)
    sid = store.snapshot_id("2024-09-30", now=pd.Timestamp("2030-01-01", tz="UTC"))
    partial = store.begin(root, sid)
    shutil.copytree(root / before, partial, dirs_exist_ok=True)
    table = partial / "customers.parquet"
    table.write_bytes(table.read_bytes()[: table.stat().st_size // 2])
    with pytest.raises(ForecastingError, match="customers.parquet does not read back"):
        store.commit(root, partial, sid)
    assert store.current_id(root) == before and not (root / sid).exists()
    store.clean_partials(root)
    assert not partial.exists()


def test_a_refresh_as_of_a_past_date_sees_only_what_was_known_then(in_store):
    """Point in time: the 2024-08-31 refresh forecasts from the week after it, not from the
    data's end, and its KPIs stop at its month (the data run to the end of 2024)."""
    root, _, _, first, second = in_store
    fc = store.read_forecast_history(root)
    early = pd.to_datetime(fc.loc[fc["snapshot_id"] == first, "ds"])
    late = pd.to_datetime(fc.loc[fc["snapshot_id"] == second, "ds"])
    # the first forecast week is the one in progress on 2024-08-31 (its history stops at the
    # last complete week), never one after the data's end
    assert pd.Timestamp("2024-08-24") < early.min() <= pd.Timestamp("2024-09-07")
    assert late.min() >= early.min() + pd.Timedelta(weeks=4)
