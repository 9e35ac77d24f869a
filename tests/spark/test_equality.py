"""The Spark engine gives what the local engine gives: same rows (sorted by key), ids and
labels equal, numbers within 1e-9, on the sample data (2,000 customers) and on tiny tables
built to break the validation rules across buckets."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from forecasting.analytics.segments import SegmentConfig, segments
from forecasting.churn.score import score_customers
from forecasting.cli import main
from forecasting.errors import DataError
from forecasting.features import build_features
from forecasting.io import read_dataset, read_table, write_table
from spark_helpers import NOW, assert_same

AS_OF = "2024-12-31"


@pytest.fixture(scope="module")
def tables(spark, sample_folder):
    from forecasting.engines.spark_data import read_tables

    return read_tables(sample_folder, spark, now=NOW)


def test_features_equal(tables, local_data, tmp_path):
    """Features, written as ``--out x.parquet`` writes them (a folder of part files)."""
    from forecasting.engines import spark as engine

    local = build_features(local_data, AS_OF).reset_index()
    out = engine.write(engine.features(tables, AS_OF), tmp_path / "features.parquet")
    assert out.is_dir()
    assert_same(local, pd.read_parquet(out), ["customer_id"])


def test_scores_and_segments_equal(tables, local_data, trained):
    """Scores, then segments with them, at a date where the segments hold all three kinds of
    customer: scored by the model, by RFM rules (no order in the model's lookback) and
    prospects (no order yet)."""
    from forecasting.engines import spark as engine

    model, as_of = trained.model, "2024-06-30"
    local = score_customers(local_data, as_of, model=model)
    scores = engine.score(tables, as_of, model).persist()
    got = engine.to_pandas(scores)
    assert got["churn_probability"].is_monotonic_decreasing
    assert (got["reasons"].str.len() > 2).all()
    assert_same(local.assign(reasons=local["reasons"].map(json.dumps)), got, ["customer_id"])

    cfg = SegmentConfig()
    seg_local = segments(local_data, as_of, cfg, churn_scores=local)
    seg = engine.to_pandas(engine.segments(tables, as_of, cfg, churn_scores=scores))
    assert {"prospect", "churned"} <= set(seg_local["lifecycle_stage"])
    assert {"rfm rules", f"model v{model.version}"} <= set(seg_local["churn_source"])
    assert_same(seg_local, seg, ["customer_id"])
    assert seg["value_at_risk_12m"].fillna(-1).is_monotonic_decreasing


def test_cli_features_and_score_equal(sample_folder, spark, trained, tmp_path, local_data):
    """The commands of the issue: ``features``, ``score`` (the champion loaded through MLflow
    on the driver) and ``segments`` with ``--engine spark`` write what the local engine
    writes."""
    from forecasting import tracking
    from forecasting.churn.gate import make_decide
    from forecasting.churn.track import log_training

    example = build_features(local_data, AS_OF).head(5).reset_index()
    log_training(trained, "churn", example)
    tracking.promote("churn", make_decide())
    for cmd, *extra in (("features",), ("score",), ("segments",)):
        outs = {}
        for engine in ("local", "spark"):
            out = tmp_path / f"{cmd}_{engine}.csv"
            assert main([cmd, str(sample_folder), "--as-of", AS_OF, "--out", str(out),
                         "--engine", engine, *extra]) == 0
            outs[engine] = _numbers(read_table(out))
        assert_same(outs["local"], outs["spark"], ["customer_id"])


def _numbers(table: pd.DataFrame) -> pd.DataFrame:
    """A CSV read back: the columns that hold only numbers as numbers (Spark writes 1.0E-4
    where pandas writes 0.0001)."""
    out = table.copy()
    for c in out.columns:
        num = pd.to_numeric(out[c], errors="coerce")
        if num.notna().sum() == out[c].notna().sum():
            out[c] = num
    return out


def _broken_tables() -> dict[str, pd.DataFrame]:
    """Tiny tables breaking rules whose rows can sit in different buckets: order O1 line 1
    twice for two customers (duplicate key, inconsistent order), customer c9 unknown
    (orphan), a negative quantity on a completed line."""
    orders = pd.DataFrame({
        "order_id": ["O1", "O1", "O2", "O3", "O4"], "line_no": [1, 1, 1, 1, 1],
        "customer_id": [f"c{i}" for i in (1, 2, 3, 9, 4)],
        "product_id": ["p"] * 5, "quantity": [1.0, 2.0, -3.0, 1.0, 1.0],
        "amount": [10.0, 20.0, 30.0, 5.0, 5.0], "status": ["completed"] * 5,
        "order_date": pd.to_datetime(["2024-01-01"] * 2 + ["2024-02-01"] * 3)})
    customers = pd.DataFrame({"customer_id": [f"c{i}" for i in range(1, 6)],
                              "region": ["n", "s", "n", "s", "e"]})
    return {"orders": orders, "customers": customers}


def test_validation_messages_equal(spark, tmp_path):
    """Duplicate keys, inconsistent orders and orphan ids across buckets, and a row rule
    inside a part: the same problems (rule, count, rows, message) as the local path; input
    as Parquet folders of part files."""
    from forecasting.engines.spark_data import read_tables

    local_dir, spark_dir = tmp_path / "local", tmp_path / "spark"
    for name, df in _broken_tables().items():
        write_table(df, local_dir / f"{name}.parquet")
        (spark_dir / f"{name}.parquet").mkdir(parents=True)
        half = len(df) // 2
        df.iloc[:half].to_parquet(spark_dir / f"{name}.parquet" / "part-0.parquet")
        df.iloc[half:].to_parquet(spark_dir / f"{name}.parquet" / "part-1.parquet")
    with pytest.raises(DataError) as local:
        read_dataset(local_dir, now=NOW)
    with pytest.raises(DataError) as remote:
        read_tables(spark_dir, spark, now=NOW, buckets=4)

    def problems(err):
        return sorted((p.table, p.column, p.rule, p.count, p.message, p.fix,
                       str(p.rows)) for p in err.value.problems)

    assert {p.rule for p in local.value.problems} >= {
        "duplicate key", "inconsistent order", "orphan customer id", "negative quantity"}
    assert problems(remote) == problems(local)


def test_row_rules_in_chunks_count_every_row(spark, tmp_path):
    """A Python worker validates a partition in chunks (of 500,000 rows by default, so that
    its memory does not grow with the input split): with chunks of 2 rows and Arrow batches
    of 1, every one of 7 broken rows is still counted and located as the local path does."""
    from forecasting.engines.spark_data import read_tables

    orders = pd.DataFrame({
        "order_id": [f"O{i}" for i in range(7)], "line_no": 1,
        "customer_id": [f"c{i % 3}" for i in range(7)], "product_id": "p",
        "quantity": -1.0, "amount": 10.0, "status": "completed",
        "order_date": pd.Timestamp("2024-01-01")})
    customers = pd.DataFrame({"customer_id": ["c0", "c1", "c2"]})
    local_dir, spark_dir = tmp_path / "local", tmp_path / "spark"
    for name, df in {"orders": orders, "customers": customers}.items():
        write_table(df, local_dir / f"{name}.parquet")
        write_table(df, spark_dir / f"{name}.parquet")
    with pytest.raises(DataError) as local:
        read_dataset(local_dir, now=NOW)
    key = "spark.sql.execution.arrow.maxRecordsPerBatch"
    before = spark.conf.get(key)
    spark.conf.set(key, "1")
    try:
        with pytest.raises(DataError) as remote:
            read_tables(spark_dir, spark, now=NOW, buckets=2, validate_rows=2)
    finally:
        spark.conf.set(key, before)

    def problems(err):
        return sorted((p.table, p.column, p.rule, p.count, p.message, str(p.rows))
                      for p in err.value.problems)

    assert [p.count for p in local.value.problems if p.rule == "negative quantity"] == [7]
    assert problems(remote) == problems(local)
