"""``forecast --engine spark`` gives what the local engine gives: same rows (sorted by
``unique_id``, ``ds``), ids and history labels equal, every number within 1e-9, on series of
the sample data with all three history groups (full, short, new), per-series, pooled and
global candidates; and the series validation's problems are the local path's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.cli import main
from forecasting.demand.models import is_pooled, make
from forecasting.demand.pipeline import forecast
from forecasting.demand.series import orders_to_series
from forecasting.errors import DataError
from forecasting.io import read_dataset, read_table, write_table

from spark_helpers import NOW, assert_same

HORIZON = 3
# per-series (bucketed), pooled (decomposition, its category variant, the cold start that
# joins for new series) and global (LightGBM, a few trees: trained on the driver)
MODELS = ("seasonal_naive", "mean", "ses", "damped", "ets", "theta", "croston", "sba", "tsb",
          "decomposition", "decomposition_category", "lightgbm")
LGBM = {"objective": "l1", "n_estimators": 25}


@pytest.fixture(scope="module")
def series(sample_folder, tmp_path_factory) -> pd.DataFrame:
    """16 weekly product series of the sample: 8 with two years or more (full), the others
    shorter, 3 of them cut to 1-4 weeks (new, cold start). Written as a Parquet folder of
    two part files, the layout Spark writes."""
    data = read_dataset(sample_folder, now=NOW)
    s = orders_to_series(data.orders, freq="W", products=data.products)
    n = s.groupby("unique_id").size().sort_values(kind="stable")
    ids = list(n.index[:8]) + list(n.index[-8:])
    s = s[s["unique_id"].isin(ids)]
    for uid, keep in zip(n.index[:3], (1, 2, 4)):
        rows = s.index[s["unique_id"] == uid]
        s = s.drop(rows[:-keep])
    return s.reset_index(drop=True)


@pytest.fixture(scope="module")
def series_folder(series, tmp_path_factory):
    folder = tmp_path_factory.mktemp("series") / "series.parquet"
    folder.mkdir()
    half = len(series) // 2
    series.iloc[:half].to_parquet(folder / "part-0.parquet", index=False)
    series.iloc[half:].to_parquet(folder / "part-1.parquet", index=False)
    return folder


@pytest.fixture(scope="module")
def local(series):
    return forecast(series, HORIZON, freq="W", candidates=MODELS, progress=False,
                    lightgbm=LGBM)


def test_forecast_equal(spark, series_folder, local):
    """The Python API: forecast table, every candidate's backtest forecasts, the choice."""
    from forecasting.engines import spark_demand as engine

    frame = engine.read_series(series_folder, spark)
    got = engine.forecast(frame, HORIZON, freq="W", candidates=MODELS, lightgbm=LGBM,
                          buckets=3)
    assert set(local.table["history"]) == {"full", "short", "new"}
    assert_same(local.table, got.table, ["unique_id", "ds"])
    assert list(got.backtest.forecasts) == list(local.backtest.forecasts)
    for name, f in local.backtest.forecasts.items():
        np.testing.assert_allclose(got.backtest.forecasts[name], f, rtol=1e-9, atol=1e-9,
                                   err_msg=name)
    assert got.model.summary() == local.model.summary()
    members = local.model.choice.members()
    assert any(not is_pooled(m) for m in members), members  # the buckets' final forecasts
    pd.testing.assert_frame_equal(got.backtest_metrics, local.backtest_metrics, rtol=1e-9)
    # every per-series model's final forecast from the buckets, not only the chosen ones
    prepared = engine.prepare(frame, "W", buckets=3)
    apart = [m for m in MODELS if not is_pooled(m)]
    final = engine.SparkPerSeries(prepared).forecast(prepared.panel, apart, HORIZON, HORIZON)
    for name in apart:
        np.testing.assert_allclose(final[name], make(name, HORIZON).forecast(
            local.panel, HORIZON), rtol=1e-9, atol=1e-9, err_msg=name)


def test_cli_forecast_equal(spark, series, tmp_path):
    """``forecasting forecast --series x.csv --engine spark --out y.csv`` writes the local
    command's file (the CSV series read as text by both engines)."""
    path = write_table(series, tmp_path / "series.csv")
    outs = {}
    for engine in ("local", "spark"):
        out = tmp_path / f"forecast_{engine}.csv"
        assert main(["forecast", "--series", str(path), "--horizon", "2", "--models",
                     "seasonal_naive,ses,theta,croston,decomposition", "--out", str(out),
                     "--quiet-table", "--engine", engine]) == 0
        outs[engine] = read_table(out)
    assert outs["spark"].equals(outs["local"])
    assert (tmp_path / "forecast_local.csv").read_text() == \
        (tmp_path / "forecast_spark.csv").read_text()


def test_series_validation_equal(spark, series, tmp_path):
    """A duplicate date and a y that is not a number, in different buckets and part files:
    the local path's problems (rule, count, series, example rows)."""
    from forecasting.engines import spark_demand as engine

    bad = series.astype({"y": object}).copy()
    ids = bad["unique_id"].unique()
    bad = pd.concat([bad, bad[bad["unique_id"] == ids[-1]].tail(1)], ignore_index=True)
    bad.loc[bad.index[bad["unique_id"] == ids[-2]][:2], "y"] = "n/a"
    folder = tmp_path / "bad.parquet"
    folder.mkdir()
    bad = bad.astype({"y": str})
    bad.iloc[: len(bad) // 2].to_parquet(folder / "part-0.parquet", index=False)
    bad.iloc[len(bad) // 2:].to_parquet(folder / "part-1.parquet", index=False)
    with pytest.raises(DataError) as local:
        forecast(bad, HORIZON, freq="W", progress=False)
    with pytest.raises(DataError) as remote:
        engine.forecast(engine.read_series(folder, spark), HORIZON, freq="W", buckets=4)

    def problems(err):
        return [(p.table, p.column, p.rule, p.count, p.message, p.fix, str(p.rows))
                for p in err.value.problems]

    assert problems(remote) == problems(local)
    bad = bad.drop_duplicates(["unique_id", "ds"])
    bad.loc[bad["y"] == "n/a", "y"] = "1"
    dup = pd.concat([bad, bad.iloc[[5, len(bad) - 3]]], ignore_index=True)
    folder2 = tmp_path / "dup.parquet"
    folder2.mkdir()
    dup.iloc[: len(dup) // 2].to_parquet(folder2 / "part-0.parquet", index=False)
    dup.iloc[len(dup) // 2:].to_parquet(folder2 / "part-1.parquet", index=False)
    with pytest.raises(DataError) as local:
        forecast(dup, HORIZON, freq="W", progress=False)
    with pytest.raises(DataError) as remote:
        engine.forecast(engine.read_series(folder2, spark), HORIZON, freq="W", buckets=4)
    assert local.value.problems[0].rule == "duplicate timestamps"
    assert problems(remote) == problems(local)
