"""Features, churn scores and RFM segments on Spark, with the local engine's pandas code.

* :func:`features` -- :func:`forecasting.features.build_features` per customer-hash bucket
  (``groupBy(bucket).applyInArrow``: the Arrow variant of ``applyInPandas``; each bucket's
  tables become pandas through the same ``Table.to_pandas()`` as :mod:`forecasting.io`, are
  validated by :func:`forecasting.validate.validate_tables` and go through the one feature
  function). Whether a customer attribute is a number or text is decided once over all
  active customers (:func:`forecasting.features.build.attribute_is_number`).
* :func:`score` -- the champion model (loaded once on the driver, broadcast) scores the
  feature rows partition by partition with :func:`forecasting.churn.score.score_features`.
* :func:`segments` -- RFM values per bucket (:func:`forecasting.analytics.segments.rfm_table`),
  the quintile cut points and the RFM churn rates once over all customers, then per customer
  :func:`~forecasting.analytics.segments.add_rfm_scores` and
  :func:`~forecasting.analytics.segments.customer_value`.

Every function takes a Spark session (``spark``) or starts one on ``master``, and returns a
Spark DataFrame; :func:`write` saves one (``.parquet`` a folder of parts, ``.csv`` one file).

Example::

    tables = read_tables("data/", spark_session("local[2]"))
    feats = features(tables, "2024-12-31")
    write(feats, "features.parquet")
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.pandas.types import to_arrow_schema

from forecasting import io
from forecasting.analytics.segments import (
    SegmentConfig, add_rfm_scores, churn_counts, churn_rates_from_counts,
    customer_value, cut_points_from_counts, day_end, model_scores, prospects_of,
    rfm_score_columns, rfm_table, segment_int_columns,
)
from forecasting.churn.model import ChurnModel
from forecasting.churn.score import customer_features, score_features
from forecasting.cutoff import Cutoff
from forecasting.dataset import Dataset
from forecasting.engines.spark_data import (
    BUCKET, CUSTOMER_TABLES, FILE, KEY_RULES, ROW, TABLE, SparkTables,
)
from forecasting.errors import ForecastingError
from forecasting.labels import churned, completed
from forecasting.features.build import (
    ATTRIBUTE_PREFIX, attribute_is_number, attribute_values, build_features,
)
from forecasting.schema import CUSTOMER_ID, TABLES
from forecasting.settings import DEFAULT_LOOKBACK_DAYS
from forecasting.validate import validate_tables

log = logging.getLogger(__name__)

_NUM = "__num"  # suffix of an attribute's numeric reading, before the global decision


# --- buckets ---------------------------------------------------------------------------------
def _union(tables: SparkTables) -> DataFrame:
    """The customer tables in one frame: ``_bucket``, ``_table``, ``_row`` and each table's
    columns as ``<table>__<column>`` (a bucket then holds every row of its customers)."""
    parts = []
    for name in CUSTOMER_TABLES:
        if name not in tables.frames:
            continue
        f = tables.frames[name]
        if BUCKET not in f.columns:  # no customer_id column: validation has said so
            continue
        parts.append(f.select(F.col(BUCKET), F.lit(name).alias(TABLE), F.col(FILE), F.col(ROW),
                              *[F.col(c).alias(f"{name}__{c}") for c in tables.columns(name)]))
    out = parts[0]
    for p in parts[1:]:
        out = out.unionByName(p, allowMissingColumns=True)
    return out


def _bucket_reader(tables: SparkTables):
    """A function turning one bucket (an Arrow table of :func:`_union`) into a validated
    :class:`Dataset`, exactly as :func:`forecasting.io.read_dataset` would for its rows."""
    names = [n for n in CUSTOMER_TABLES if n in tables.frames
             and BUCKET in tables.frames[n].columns]
    columns = {n: tables.columns(n) for n in names}
    decimals = {n: tables.sources[n].decimal for n in names}
    now, formats = tables.now, tables.formats

    def read(bucket: pa.Table) -> Dataset:
        which = bucket.column(TABLE)
        raw, sources = {}, {}
        for name in names:
            part = bucket.filter(pc.equal(which, name)).sort_by([(FILE, "ascending"),
                                                                  (ROW, "ascending")])
            part = part.select([f"{name}__{c}" for c in columns[name]])
            raw[name] = part.rename_columns(columns[name]).to_pandas()
            sources[name] = io.SourceInfo(name, "part", decimal=decimals[name])
        report = validate_tables(raw, now=now, sources=sources, column_formats=formats)
        bad = [p for p in report.problems if p.rule not in (*KEY_RULES, "missing table")]
        if bad:  # validated before; a rule breaking here is a bug of this engine
            raise RuntimeError(f"bucket validation disagrees: {bad[0].format()}")
        return Dataset(**report.tables)
    return read


# --- features --------------------------------------------------------------------------------
def _attribute_names(tables: SparkTables) -> list[str]:
    if "customers" not in tables.frames:
        return []
    return [c for c in tables.columns("customers") if c not in (CUSTOMER_ID, "created_at")]


def _feature_columns(tables: SparkTables, lookback_days: int) -> list[str]:
    """The feature columns of :func:`build_features` (without attributes) for a data set
    with the tables of ``tables`` (absent tables change the order of some columns)."""
    def empty(name: str) -> pd.DataFrame:
        kinds = {"datetime": "datetime64[us]", "number": float, "int": float}
        return pd.DataFrame({c.name: pd.Series([], dtype=kinds.get(c.kind, object))
                             for c in TABLES[name].columns})

    orders = pd.DataFrame({"order_id": ["1"], "customer_id": ["a"], "product_id": ["p"],
                           "amount": [1.0], "quantity": [1.0], "status": ["completed"],
                           "order_date": pd.to_datetime(["2024-01-01"])})
    stub = Dataset(orders, **{n: empty(n) for n in ("complaints", "surveys")
                              if n in tables.frames})
    return build_features(stub, "2024-01-02", lookback_days).columns.tolist()


def _features_fn(tables: SparkTables, as_of, lookback_days: int, schema: pa.Schema):
    read = _bucket_reader(tables)
    attrs = _attribute_names(tables)

    def run(bucket: pa.Table) -> pa.Table:
        data = read(bucket)
        feats = build_features(data, as_of, lookback_days=lookback_days)
        feats = feats.drop(columns=[ATTRIBUTE_PREFIX + a for a in attrs], errors="ignore")
        raw = attribute_values(data.customers, feats.index)
        for a in attrs:  # text and number readings; the global decision picks one
            s = raw[a]
            feats[ATTRIBUTE_PREFIX + a] = s.astype("str").where(s.notna()).astype(object)
            feats[ATTRIBUTE_PREFIX + a + _NUM] = pd.to_numeric(s, errors="coerce").astype(float)
        return pa.Table.from_pandas(feats.reset_index(), schema=schema, preserve_index=False)
    return run


def features(tables: SparkTables, as_of, lookback_days: int = DEFAULT_LOOKBACK_DAYS) -> DataFrame:
    """:func:`build_features` of every customer as of ``as_of``: one row per active customer,
    ``customer_id`` then the same columns as the local engine (attributes numbers or text)."""
    names = _feature_columns(tables, lookback_days)
    attrs = _attribute_names(tables)
    fields = [pa.field(CUSTOMER_ID, pa.string())] + [pa.field(c, pa.float64()) for c in names]
    for a in attrs:
        fields += [pa.field(ATTRIBUTE_PREFIX + a, pa.string()),
                   pa.field(ATTRIBUTE_PREFIX + a + _NUM, pa.float64())]
    schema = pa.schema(fields)
    spark_schema = T.StructType([
        T.StructField(f.name, T.StringType() if f.type == pa.string() else T.DoubleType())
        for f in fields])
    out = _union(tables).groupBy(BUCKET).applyInArrow(
        _features_fn(tables, as_of, lookback_days, schema), spark_schema)
    if not attrs:
        return out
    out = out.persist()
    counts = out.agg(*[F.count(ATTRIBUTE_PREFIX + a + s).alias(a + s)
                       for a in attrs for s in ("", _NUM)]).first().asDict()
    cols = [F.col(CUSTOMER_ID)] + [F.col(c) for c in names]
    for a in attrs:
        number = attribute_is_number(counts[a], counts[a + _NUM])
        cols.append(F.col(ATTRIBUTE_PREFIX + a + (_NUM if number else "")).alias(
            ATTRIBUTE_PREFIX + a))
    return out.select(*cols)


def to_pandas(frame: DataFrame) -> pd.DataFrame:
    """A (small) Spark result as pandas, read like :mod:`forecasting.io` reads a file."""
    return frame.toArrow().to_pandas()


# --- churn scores ----------------------------------------------------------------------------
_SCORE_SCHEMA = T.StructType([
    T.StructField(CUSTOMER_ID, T.StringType()), T.StructField("as_of", T.StringType()),
    T.StructField("churn_probability", T.DoubleType()),
    T.StructField("risk_band", T.StringType()), T.StructField("reason_1", T.StringType()),
    T.StructField("reason_2", T.StringType()), T.StructField("reason_3", T.StringType()),
    T.StructField("reasons", T.StringType()), T.StructField("model_version", T.StringType())])


def score(tables: SparkTables, as_of, model: ChurnModel,
          bands: tuple[float, float] | None = None, feats: DataFrame | None = None
          ) -> DataFrame:
    """Churn scores of every active customer (the columns of
    :func:`forecasting.churn.score.score_customers`, ``reasons`` as JSON text), largest
    probability first. ``model`` is loaded once on the driver and broadcast. ``feats``:
    :func:`features` as of ``as_of`` with the model's lookback, when already built."""
    if model.kind != "time":
        customer_features(Dataset(pd.DataFrame()), as_of, model)  # raises its message
    lookback = int(model.config.get("lookback_days", DEFAULT_LOOKBACK_DAYS))
    if feats is None:
        feats = features(tables, as_of, lookback)
    shared = tables.spark.sparkContext.broadcast(model)
    day = f"{Cutoff.of(as_of).day:%Y-%m-%d}"

    def run(batches):
        for batch in batches:
            if not batch.num_rows:
                continue
            rows = batch.to_pandas().set_index(CUSTOMER_ID)
            out = score_features(rows, shared.value, bands)
            out.insert(1, "as_of", day)
            out["reasons"] = [json.dumps(r) for r in out["reasons"]]
            out["model_version"] = out["model_version"].astype(str)
            yield pa.RecordBatch.from_pandas(out, preserve_index=False)

    out = feats.mapInArrow(run, _SCORE_SCHEMA)
    return out.orderBy(F.col("churn_probability").desc(), F.col(CUSTOMER_ID))


def check_active(frame: DataFrame, as_of, lookback_days: int) -> None:
    """The local engine's error when no customer is active (nothing to score)."""
    if frame.limit(1).count() == 0:
        raise ForecastingError(
            f"no customer has an order in the {lookback_days} days up to {as_of}: nothing to "
            "score (is --as-of inside the data's date range?)")


# --- segments --------------------------------------------------------------------------------
_RFM_TIMES = ("first_order_date", "last_order_date")


def _rfm_schema(lookback_days: int) -> T.StructType:
    L = lookback_days
    return T.StructType([
        T.StructField("kind", T.StringType()), T.StructField(CUSTOMER_ID, T.StringType()),
        *[T.StructField(c, T.TimestampNTZType()) for c in _RFM_TIMES],
        T.StructField("days_since_last_order", T.LongType()),
        T.StructField("days_since_first_order", T.LongType()),
        T.StructField(f"orders_{L}d", T.LongType()),
        T.StructField(f"revenue_{L}d", T.DoubleType()),
        T.StructField("revenue_to_date", T.DoubleType()),
        T.StructField("churned", T.DoubleType())])


def _rfm_fn(tables: SparkTables, as_of, cfg: SegmentConfig):
    """Per bucket: RFM values as of ``as_of`` ("now"), as of the churn-rate cutoff ("c",
    with ``churned``) and the prospects ("prospect")."""
    read = _bucket_reader(tables)
    schema = _rfm_schema(cfg.lookback_days)
    arrow = pa.schema([pa.field(f.name, pa.string() if isinstance(f.dataType, T.StringType)
                                else pa.timestamp("us") if isinstance(
                                    f.dataType, T.TimestampNTZType)
                                else pa.int64() if isinstance(f.dataType, T.LongType)
                                else pa.float64()) for f in schema.fields])
    end = day_end(as_of)
    cutoff = Cutoff.of(as_of).minus(cfg.horizon_days)

    def run(bucket: pa.Table) -> pa.Table:
        data = read(bucket)
        now = rfm_table(data.orders, as_of, cfg.lookback_days).reset_index()
        now["kind"] = "now"
        at_c = rfm_table(data.orders, cutoff, cfg.lookback_days)
        # the churned flag of rfm_churn_rates: the one churn definition (labels.churned);
        # customers not active at the cutoff get none and are left out on the driver
        labels = churned(completed(data.orders), cutoff, cfg.horizon_days, cfg.lookback_days)
        at_c["churned"] = labels.reindex(at_c.index).astype(float)
        at_c = at_c.reset_index()
        at_c["kind"] = "c"
        prospects = prospects_of(data, now[CUSTOMER_ID], end)[[CUSTOMER_ID]] if len(
            data.orders) or data.customers is not None else pd.DataFrame()
        prospects = prospects.assign(kind="prospect")
        out = pd.concat([now, at_c, prospects], ignore_index=True)
        for c in _RFM_TIMES:
            out[c] = pd.to_datetime(out[c]).astype("datetime64[us]")
        out = out.reindex(columns=arrow.names)
        return pa.Table.from_pandas(out, schema=arrow, preserve_index=False)
    return run


def _cut_points(rows: DataFrame, lookback_days: int) -> dict[str, np.ndarray]:
    """RFM quintile cut points over all customers of ``rows`` (distinct values, counts)."""
    cuts = {}
    for score_col, (col, better) in rfm_score_columns(lookback_days).items():
        key = F.col(col).cast("double") * F.lit(1.0 if better else -1.0)
        counts = rows.groupBy(key.alias("key")).count().toPandas().sort_values("key")
        cuts[score_col] = cut_points_from_counts(counts["key"].to_numpy(float),
                                                 counts["count"].to_numpy())
    return cuts


def _pandas_rows(batch, lookback_days: int) -> pd.DataFrame:
    rows = batch.to_pandas().set_index(CUSTOMER_ID)
    ints = [c for c in segment_int_columns(SegmentConfig(lookback_days=lookback_days))
            if c in rows and c not in ("r_score", "f_score", "m_score")]
    rows[ints] = rows[ints].astype(int)
    return rows


def segments(tables: SparkTables, as_of, cfg: SegmentConfig = SegmentConfig(),
             churn_scores: DataFrame | None = None) -> DataFrame:
    """:func:`forecasting.analytics.segments.segments` on Spark: the same rows and columns,
    sorted by ``value_at_risk_12m`` (largest first), then ``customer_id``. ``churn_scores``
    are :func:`score`'s rows for the same ``as_of`` (None: RFM rules)."""
    L = cfg.lookback_days
    rfm = _union(tables).groupBy(BUCKET).applyInArrow(
        _rfm_fn(tables, as_of, cfg), _rfm_schema(L)).persist()
    now_rows = rfm.filter(F.col("kind") == "now").drop("kind", "churned")
    c_rows = rfm.filter(F.col("kind") == "c").drop("kind")
    cuts_c = _cut_points(c_rows, L)
    active_c = c_rows.filter(F.col("days_since_last_order") < L)

    def c_scores(batches):
        for batch in batches:
            if batch.num_rows:
                rows = add_rfm_scores(_pandas_rows(batch, L), cuts_c, L)
                yield pa.RecordBatch.from_pandas(churn_counts(
                    rows["segment"], rows["r_score"], rows["churned"]), preserve_index=False)

    counts = active_c.mapInArrow(
        c_scores, "segment string, r_score long, customers long, churned double")
    counts = counts.groupBy("segment", "r_score").agg(
        F.sum("customers").alias("customers"), F.sum("churned").alias("churned")).toPandas()
    if counts.empty:
        counts = pd.DataFrame({"segment": [], "r_score": [], "customers": [], "churned": []})
    rates = churn_rates_from_counts(counts, cfg.min_customers_per_rate)
    cuts = _cut_points(now_rows, L)
    with_model = churn_scores is not None
    if with_model:
        scored = churn_scores.select(CUSTOMER_ID, "churn_probability", "risk_band",
                                     "reasons", "model_version")
        now_rows = now_rows.join(scored, CUSTOMER_ID, "left")
    schema = _segment_schema(L, with_model)
    arrow = to_arrow_schema(schema)

    def values(batches):
        for batch in batches:
            if not batch.num_rows:
                continue
            rows = _pandas_rows(batch, L)
            scored = None
            if with_model:
                given = rows[["churn_probability", "risk_band", "reasons", "model_version"]]
                given = given[given["churn_probability"].notna()].copy()
                given["reasons"] = [json.loads(r) for r in given["reasons"]]
                scored = model_scores(given.reset_index()) if len(given) else None
                rows = rows.drop(columns=["churn_probability", "risk_band", "reasons",
                                          "model_version"])
            out = customer_value(add_rfm_scores(rows, cuts, L), rates, scored, as_of, cfg)
            if with_model and scored is None:
                out["risk_band"], out["reasons"] = None, None
            out = out.reset_index().reindex(columns=arrow.names)
            yield pa.RecordBatch.from_pandas(out, schema=arrow, preserve_index=False)

    buyers = now_rows.mapInArrow(values, schema)
    prospects = rfm.filter(F.col("kind") == "prospect").select(
        CUSTOMER_ID, F.lit("prospect").alias("lifecycle_stage"),
        *[F.lit(0.0).alias(c) for c in ("revenue_to_date", "revenue_if_retained_12m",
                                         "expected_revenue_12m", "value_at_risk_12m")])
    out = buyers.unionByName(prospects, allowMissingColumns=True).select(*schema.names)
    return out.orderBy(F.col("value_at_risk_12m").desc_nulls_last(), F.col(CUSTOMER_ID))


def _segment_schema(L: int, with_model: bool) -> T.StructType:
    s, d, i, ts = T.StringType(), T.DoubleType(), T.LongType(), T.TimestampNTZType()
    cols = [(CUSTOMER_ID, s), ("first_order_date", ts), ("last_order_date", ts),
            ("days_since_last_order", i), ("days_since_first_order", i), (f"orders_{L}d", i),
            (f"revenue_{L}d", d), ("revenue_to_date", d), ("r_score", i), ("f_score", i),
            ("m_score", i), ("rfm_score", s), ("segment", s)]
    if with_model:
        cols += [("risk_band", s), ("reasons", s)]
    cols += [("churn_probability", d), ("churn_source", s), ("lifecycle_stage", s),
             ("revenue_if_retained_12m", d), ("expected_revenue_12m", d),
             ("value_at_risk_12m", d)]
    return T.StructType([T.StructField(n, t) for n, t in cols])


# --- output ----------------------------------------------------------------------------------
def write(frame: DataFrame, path: str | Path) -> Path:
    """``.parquet``: a folder of part files (Spark's layout); ``.csv``: one file, written by
    one task; ``.json``: records, collected on the driver (small results only)."""
    path = Path(path)
    name = path.name.lower()
    if name.endswith(".parquet"):
        frame.write.mode("overwrite").parquet(str(path))
    elif name.endswith(".csv"):  # NaN as an empty cell, as pandas writes it
        frame = frame.select(*[
            F.when(~F.isnan(f.name), F.col(f.name)).alias(f.name)
            if isinstance(f.dataType, T.DoubleType) else F.col(f.name)
            for f in frame.schema.fields])
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
            (frame.coalesce(1).write.mode("overwrite")
             .option("header", True).option("escape", "\"")
             .option("timestampNTZFormat", "yyyy-MM-dd HH:mm:ss")
             .csv(str(Path(tmp) / "out")))
            part = next((Path(tmp) / "out").glob("part-*"))
            shutil.move(str(part), path)
    elif name.endswith(".json"):
        io.write_table(to_pandas(frame), path)
    else:
        raise ForecastingError(f"{path}: unknown output type; use .csv, .parquet or .json")
    return path

