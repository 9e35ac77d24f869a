"""Demand forecasts on Spark: the per-series candidates in series-hash buckets, everything
pooled or global once on the driver, with the local engine's code throughout.

* :func:`read_series` -- a long table (``unique_id``, ``ds``, ``y`` and product attributes)
  from a Parquet or CSV file or folder of part files.
* :func:`prepare` -- validation and the panel. The frequency is inferred once over the
  distinct dates (:func:`forecasting.demand.freq.infer`, as the local path does over all
  rows); then every series-hash bucket (``groupBy(bucket).applyInArrow``; one series is
  always whole in one bucket, so duplicate dates of a series meet there) goes through
  :func:`forecasting.demand.validate.validate_series` itself and comes back packed, one row
  per series (its values in date order, last date, attributes). Which attribute columns are
  constant per series is decided over all buckets. When a bucket breaks a rule, its rows are
  validated again on the driver, in input order, so the error lists the same problems,
  counts, series and rows as the local path. The driver builds the
  :class:`~forecasting.demand.panel.Panel` of all series (n x T floats: 100,000 weekly series
  of three years are about 125 MB).
* :func:`forecast` -- :func:`forecasting.demand.pipeline.fit_panel` with a
  :class:`SparkPerSeries`: the candidates that fit one series at a time (seasonal naive,
  mean, SES, damped, ETS, Theta, Croston, SBA, TSB: not
  :func:`~forecasting.demand.models.is_pooled`) are backtested, and the chosen ones
  forecast, per bucket; each bucket's sub-panel sits on the same columns as the whole panel
  (at every backtest origin too), so each series sees exactly what it sees locally. The
  pooled and global ones (the decomposition's pooled seasonal indices, the cold start's peer
  levels, LightGBM, trained on at most ``max_rows`` = 500,000 sampled (series, origin, step)
  rows, 1,000,000 for the lean variant), the per-group choice and the interval calibration
  run once on the driver, by the same code.
* :func:`predict` -- a registered :class:`~forecasting.demand.pipeline.DemandModel` (the
  champion) on Spark: its per-series members refitted in buckets, global members on the
  driver.

Example::

    spark = spark_session("local[2]")
    result = forecast(read_series("series.parquet", spark), horizon=12)
    result.table  # the local engine's table: unique_id, ds, yhat, yhat_lo_80, ..., history
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.pandas.types import to_arrow_schema

from forecasting import io
from forecasting.demand import freq as freqs
from forecasting.demand.history import FULL, GROUPS, NEW_BELOW, classify
from forecasting.demand.models import is_pooled, make
from forecasting.demand.panel import Panel
from forecasting.demand.pipeline import (DemandConfig, DemandModel, ForecastResult, fit_panel,
                                         to_table)
from forecasting.demand.validate import validate_series
from forecasting.engines.spark_data import _csv_source
from forecasting.errors import DataError, ForecastingError
from forecasting.schema import DS, UNIQUE_ID, Y
from forecasting.settings import DEFAULT_LEVELS

log = logging.getLogger(__name__)

ROW, FILE, BUCKET = "_row", "_file", "_bucket"
_BAD, _NU, _GAPS = "_bad", "_nu__", "_gaps"  # bucket broke a rule; distinct values; gaps
SERIES_PER_BUCKET = 5_000


# --- reading ---------------------------------------------------------------------------------
def read_series(path: str | Path, spark: SparkSession,
                options: io.ReadOptions | None = None) -> DataFrame:
    """A long series table from ``path``: ``.parquet`` or ``.csv`` (.csv.gz, .tsv), a file or a
    folder of part files. CSV columns are text (as :func:`forecasting.io.read_table` reads
    them), its delimiter and encoding detected on the head of the first file."""
    path = Path(path)
    name = path.name.lower()
    if not path.exists():
        raise ForecastingError(f"{path}: no such file or folder")
    if name.endswith(".parquet"):
        frame = spark.read.parquet(str(path))
    elif name.endswith((".csv", ".csv.gz", ".tsv")):
        info = _csv_source(path, "series", options or io.ReadOptions())
        encoding = "utf-8" if info.encoding in (None, "utf-8-sig") else info.encoding
        frame = (spark.read.option("header", True).option("sep", info.sep or ",")
                 .option("encoding", encoding).csv(str(path)))
        if frame.columns:
            frame = frame.withColumnRenamed(frame.columns[0], frame.columns[0].lstrip("\ufeff"))
    else:
        raise ForecastingError(f"{path}: the Spark engine reads series as .parquet or .csv "
                               f"(a file or a folder of part files)")
    return frame


def from_pandas(table: pd.DataFrame, spark: SparkSession) -> DataFrame:
    """A long series table built on the driver (e.g. from orders) as a Spark DataFrame."""
    return spark.createDataFrame(pa.Table.from_pandas(table, preserve_index=False))


# --- validation and the panel ----------------------------------------------------------------
@dataclass
class SparkSeries:
    """The validated series: the driver's panel, the packed per-series rows on Spark (one row
    per series: ``unique_id``, ``y`` values in date order, ``last_ds``, attributes,
    ``_bucket``) and the buckets."""

    panel: Panel
    packed: DataFrame
    buckets: int
    report: dict


def _frequency(frame: DataFrame, freq: str | None) -> str:
    """``freq`` or the frequency inferred from the distinct dates (the local path infers it
    from all rows' dates with duplicates dropped: the same dates)."""
    if freq:
        return freqs.canonical(freq)
    values = frame.select(F.col(DS).alias("v")).distinct().toArrow().column("v").to_pandas()
    ds = pd.to_datetime(values, errors="coerce", format="mixed")
    if getattr(ds.dt, "tz", None) is not None:
        ds = ds.dt.tz_localize(None)
    return freqs.infer(ds.dropna().astype("datetime64[ns]"))


def _packed_schema(frame: DataFrame, extra: list[str]) -> T.StructType:
    fields = [T.StructField(UNIQUE_ID, T.StringType()),
              T.StructField(Y, T.ArrayType(T.DoubleType())),
              T.StructField("last_ds", T.TimestampNTZType())]
    fields += [T.StructField(c, frame.schema[c].dataType) for c in extra]
    fields += [T.StructField(_NU + c, T.LongType()) for c in extra]
    fields += [T.StructField(_GAPS, T.LongType()), T.StructField(_BAD, T.BooleanType()),
               T.StructField(BUCKET, T.LongType())]
    return T.StructType(fields)


def _raw(bucket: pa.Table, columns: list[str]) -> pd.DataFrame:
    """A bucket's input rows as the local path reads them (input order, input columns)."""
    order = bucket.sort_by([(FILE, "ascending"), (ROW, "ascending")])
    return order.select(columns).to_pandas()


def _pack_fn(freq: str, columns: list[str], extra: list[str], schema: pa.Schema):
    """Per bucket: ``validate_series`` and one packed row per series (or one ``_bad`` row)."""
    def run(bucket: pa.Table) -> pa.Table:
        raw = _raw(bucket, columns)
        number = bucket.column(BUCKET)[0].as_py()
        quiet = logging.getLogger(validate_series.__module__)
        level = quiet.level  # the driver warns once for all buckets
        quiet.setLevel(logging.ERROR)
        try:
            clean, report = validate_series(raw, freq=freq)
        except DataError:
            bad = {f.name: [None] for f in schema}
            bad[_BAD], bad[BUCKET] = [True], [number]
            return pa.Table.from_pydict(bad, schema=schema)
        finally:
            quiet.setLevel(level)
        by = clean.groupby(UNIQUE_ID, sort=True)
        out = pd.DataFrame({UNIQUE_ID: np.asarray(list(by.groups), dtype=object)})
        starts = np.concatenate([[0], np.cumsum(by.size().to_numpy())])
        y = clean[Y].to_numpy(float)
        out[Y] = [y[a:b] for a, b in zip(starts[:-1], starts[1:])]
        out["last_ds"] = by[DS].max().to_numpy().astype("datetime64[us]")
        if extra:
            first = by[extra].first()
            nunique = by[extra].nunique(dropna=False)
            for c in extra:
                out[c] = first[c].to_numpy()
                out[_NU + c] = nunique[c].to_numpy().astype(np.int64)
        out[_GAPS] = 0
        out.loc[0, _GAPS] = int(report["gaps_filled"])
        out[_BAD] = False
        out[BUCKET] = number
        return pa.Table.from_pandas(out, schema=schema, preserve_index=False)
    return run


def series_buckets(n_series: int, spark: SparkSession) -> int:
    """One bucket per :data:`SERIES_PER_BUCKET` series, at least twice the parallelism."""
    return max(2 * spark.sparkContext.defaultParallelism, -(-n_series // SERIES_PER_BUCKET))


def prepare(frame: DataFrame, freq: str | None = None, buckets: int | None = None
            ) -> SparkSeries:
    """Validate a long series table on Spark (see the module docstring) and build the panel;
    raises the :class:`DataError` of :func:`validate_series`."""
    spark = frame.sparkSession
    columns = list(frame.columns)
    if any(c not in columns for c in (UNIQUE_ID, DS, Y)):
        validate_series(pd.DataFrame(columns=columns))  # raises its message
    f = _frequency(frame, freq)
    if buckets is None:
        buckets = series_buckets(frame.select(UNIQUE_ID).distinct().count(), spark)
    extra = [c for c in columns if c not in (UNIQUE_ID, DS, Y)]
    rows = frame.select(*columns, F.monotonically_increasing_id().alias(ROW),
                        F.input_file_name().alias(FILE))
    key = F.col(UNIQUE_ID).cast("string")
    rows = rows.withColumn(BUCKET, F.pmod(F.xxhash64(key), F.lit(int(buckets))))
    schema = _packed_schema(frame, extra)
    arrow = to_arrow_schema(schema)
    packed = rows.groupBy(BUCKET).applyInArrow(_pack_fn(f, columns, extra, arrow),
                                               schema).persist()
    bad = [r[BUCKET] for r in packed.filter(F.col(_BAD)).select(BUCKET).collect()]
    if bad:  # the local path's problems: they are all in these buckets' rows
        failing = rows.filter(F.col(BUCKET).isin(bad)).select(*columns, FILE, ROW).toArrow()
        packed.unpersist()
        validate_series(_raw(failing, columns), freq=f)
        raise RuntimeError("a bucket broke a rule that the driver does not see: a bug")
    agg = packed.agg(F.sum(_GAPS).alias("gaps"),
                     *[F.max(_NU + c).alias(c) for c in extra]).first().asDict()
    static = [c for c in extra if (agg[c] or 0) <= 1]
    got = packed.select(UNIQUE_ID, Y, "last_ds", *static).toArrow()
    panel = _panel(got, f, static)
    report = {"freq": f, "series": panel.n, "rows": int(panel.lengths.sum()),
              "gaps_filled": int(agg["gaps"] or 0)}
    classes = classify(panel.lengths, panel.season_length)
    report["history"] = {g: int((classes == g).sum()) for g in GROUPS}
    if report["gaps_filled"]:
        log.warning("filled %d missing period(s) with y = 0", report["gaps_filled"])
    young = int((classes != FULL).sum())
    if young:
        log.warning("%d of %d series have less than two seasons of %s history (short: "
                    "non-seasonal and pooled-season models; new, under %d observations: "
                    "cold start from similar series)", young, panel.n, f, NEW_BELOW)
    log.info("validated %d series (%d rows) with Spark in %d buckets", panel.n,
             report["rows"], buckets)
    return SparkSeries(panel, packed.select(UNIQUE_ID, Y, "last_ds", *static, BUCKET),
                       int(buckets), report)


def _panel(got: pa.Table, freq: str, static: list[str]) -> Panel:
    """The panel of packed rows: series sorted by id, right-aligned, as
    :meth:`Panel.from_long` builds it."""
    ids = np.asarray(got.column(UNIQUE_ID).to_pylist(), dtype=str)
    order = np.argsort(ids, kind="stable")
    rank = np.empty(len(ids), dtype=np.int64)
    rank[order] = np.arange(len(ids))
    lists = got.column(Y).combine_chunks()
    offsets = lists.offsets.to_numpy()
    lengths = np.diff(offsets)
    values = lists.values.to_numpy(zero_copy_only=False)[offsets[0]:offsets[-1]]
    width = int(lengths.max()) if len(lengths) else 0
    y = np.full((len(ids), width), np.nan)
    starts = np.repeat(offsets[:-1] - offsets[0], lengths)
    y[np.repeat(rank, lengths),
      np.repeat(width - lengths, lengths) + np.arange(len(values)) - starts] = values
    last = got.column("last_ds").to_numpy().astype("datetime64[ns]")[order]
    table = None
    if static:
        table = got.select(static).to_pandas().iloc[order]
        table.index = ids[order]
    return Panel(ids[order], y, last, freq, table)


# --- per-series work in buckets --------------------------------------------------------------
def _bucket_panel(bucket: pa.Table, freq: str, width: int, static: list[str]) -> Panel:
    """A bucket's series as a panel on the whole panel's ``width`` columns."""
    panel = _panel(bucket, freq, static)
    return _pad(panel, width)


def _pad(panel: Panel, width: int) -> Panel:
    """``panel`` with NaN columns added in front up to ``width`` columns (right-aligned
    series keep their columns: the model sees the local engine's array)."""
    extra = width - panel.T
    if extra <= 0:
        return panel
    y = np.concatenate([np.full((panel.n, extra), np.nan), panel.y], axis=1)
    return Panel(panel.ids, y, panel.last_ds, panel.freq, panel.static)


def _forecast_schema() -> T.StructType:
    return T.StructType([T.StructField(UNIQUE_ID, T.StringType()),
                         T.StructField("f", T.ArrayType(T.DoubleType()))])


def _backtest_fn(freq: str, names: list[str], h: int, origins: list[int], widths: list[int],
                 width: int, static: list[str]):
    """Per bucket: the forecasts of ``names`` at every backtest origin, as
    :func:`forecasting.demand.backtest.backtest` makes them (series with at least one
    observation before the origin; NaN for the others)."""
    W, C = len(origins), len(names)

    def run(bucket: pa.Table) -> pa.Table:
        panel = _bucket_panel(bucket, freq, width, static)
        out = np.full((panel.n, W, C, h), np.nan)
        for w, cut in enumerate(origins):
            past = panel.truncate(cut)
            rows = np.flatnonzero(past.lengths >= 1)
            if not len(rows):
                continue
            sub = _pad(past.subset(rows), widths[w])
            for c, name in enumerate(names):
                out[rows, w, c] = make(name, h).forecast(sub, h)
        return pa.table({UNIQUE_ID: pa.array(panel.ids.tolist(), pa.string()),
                         "f": pa.array(list(out.reshape(panel.n, -1)),
                                       pa.list_(pa.float64()))})
    return run


def _final_fn(freq: str, names: list[str], horizon: int, h: int, width: int,
              static: list[str]):
    """Per bucket: the forecasts of ``names`` fitted on all history, as
    :meth:`DemandModel.forecast_panel` makes them."""
    def run(bucket: pa.Table) -> pa.Table:
        panel = _bucket_panel(bucket, freq, width, static)
        out = np.stack([make(name, horizon).forecast(panel, h) for name in names], axis=1)
        return pa.table({UNIQUE_ID: pa.array(panel.ids.tolist(), pa.string()),
                         "f": pa.array(list(out.reshape(panel.n, -1)),
                                       pa.list_(pa.float64()))})
    return run


class SparkPerSeries:
    """The per-series half of :func:`forecasting.demand.pipeline.fit_panel` on Spark (its
    ``per_series`` argument): each call is one Spark job over the series buckets whose
    results are collected into the driver's arrays, in the panel's series order."""

    def __init__(self, series: SparkSeries):
        self.series = series
        self.static = [c for c in series.packed.columns
                       if c not in (UNIQUE_ID, Y, "last_ds", BUCKET)]

    def _collect(self, fn, panel: Panel, shape: tuple[int, ...]) -> np.ndarray:
        got = self.series.packed.groupBy(BUCKET).applyInArrow(
            fn, _forecast_schema()).toArrow()
        where = pd.Index(panel.ids).get_indexer(
            np.asarray(got.column(UNIQUE_ID).to_pylist(), dtype=str))
        if (where < 0).any() or len(where) != panel.n:
            raise RuntimeError("the buckets' series are not the panel's: a bug")
        flat = pc.list_flatten(got.column("f")).to_numpy(zero_copy_only=False)
        out = np.empty((panel.n, *shape))
        out[where] = flat.reshape(len(where), *shape)
        return out

    def backtest(self, panel: Panel, names: list[str], h: int, origins: list[int]
                 ) -> dict[str, np.ndarray]:
        if not names:
            return {}
        widths = []
        for cut in origins:  # the width of the whole panel's sub-panel at each origin
            past = panel.truncate(cut)
            rows = np.flatnonzero(past.lengths >= 1)
            widths.append(past.subset(rows).T if len(rows) else 0)
        fn = _backtest_fn(panel.freq, names, h, origins, widths, panel.T, self.static)
        out = self._collect(fn, panel, (len(origins), len(names), h))
        log.info("backtested %s on Spark", ", ".join(names))
        return {name: np.ascontiguousarray(out[:, :, c].transpose(1, 0, 2))
                for c, name in enumerate(names)}

    def forecast(self, panel: Panel, names: list[str], horizon: int, h: int
                 ) -> dict[str, np.ndarray]:
        if not names:
            return {}
        fn = _final_fn(panel.freq, names, horizon, h, panel.T, self.static)
        out = self._collect(fn, panel, (len(names), h))
        return {name: np.ascontiguousarray(out[:, c]) for c, name in enumerate(names)}


# --- the engine's entry points ---------------------------------------------------------------
def forecast(frame: DataFrame, horizon: int, freq: str | None = None, levels=DEFAULT_LEVELS,
             candidates=None, n_windows: int = 2, buckets: int | None = None,
             progress: bool = False, **config) -> ForecastResult:
    """:func:`forecasting.demand.pipeline.forecast` on Spark (see the module docstring): the
    same table, model and backtest metrics."""
    series = prepare(frame, freq, buckets)
    cfg = DemandConfig(horizon=horizon, freq=series.panel.freq, levels=tuple(levels),
                       candidates=tuple(candidates) if candidates else None,
                       n_windows=n_windows, **config)
    try:
        return fit_panel(series.panel, cfg, progress=progress,
                         per_series=SparkPerSeries(series))
    finally:
        series.packed.unpersist()


def predict(model: DemandModel, frame: DataFrame, h: int | None = None,
            buckets: int | None = None) -> pd.DataFrame:
    """:meth:`DemandModel.predict` on Spark: per-series members refitted in buckets, global
    members (trained trees) and pooled ones on the driver."""
    series = prepare(frame, model.freq, buckets)
    try:
        panel = series.panel
        h = h or model.config.horizon
        choice, _ = model._grouped()
        local = [m for m in choice.members() if not is_pooled(m)]
        given = SparkPerSeries(series).forecast(panel, local, model.config.horizon, h)
        yhat, bounds, _ = model.forecast_panel(panel, h, given=given)
        return to_table(panel, yhat, bounds, model.groups(panel))
    finally:
        series.packed.unpersist()


def write_forecasts(table: pd.DataFrame, path: str | Path, spark: SparkSession) -> Path:
    """The forecast table (assembled on the driver): ``.parquet`` a folder of part files
    (Spark's layout), ``.csv`` / ``.json`` one file written as the local engine writes it."""
    path = Path(path)
    if path.name.lower().endswith(".parquet"):
        frame = spark.createDataFrame(pa.Table.from_pandas(table, preserve_index=False))
        frame.write.mode("overwrite").parquet(str(path))
        return path
    return io.write_table(table, path)
