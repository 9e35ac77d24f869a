"""Reading and validating a data set with Spark: the tables as Spark DataFrames, checked with
the local engine's rules and messages (:mod:`forecasting.validate`).

* Inputs: a folder with one entry per table, ``orders.parquet`` / ``orders.csv`` (a file or a
  folder of part files, as Spark writes them). CSV files are read as text, their encoding,
  delimiter and decimal separator detected by :mod:`forecasting.io` on the head of the first
  file (or given with the read options).
* Validation, the same rules and messages as the local path:

  - text date columns: the format is detected once over every distinct value and its row
    count (:func:`forecasting.dates.parse_dates`), then fixed for every part;
  - row rules (types, ranges, missing values, statuses, dates...): :func:`validate_tables`
    over each Spark partition, the problems summed (counts) and merged (the first five rows);
  - rules across rows (duplicate keys, inconsistent orders, orphan customer ids): Spark
    aggregations find the rows that may break them (every row of a repeated key, every line
    of an order with two customers or dates, ids missing from customers), then
    :func:`validate_tables` decides over those rows only, on the driver (usually none).

  Row numbers in the examples are 1-based positions in the table: for one file, the line of
  the data as the local engine counts it; for a folder, counting through its part files in
  name order.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from forecasting import io
from forecasting.dates import parse_dates
from forecasting.engines import DEFAULT_SPARK_MASTER
from forecasting.errors import DataError, ForecastingError, Problem
from forecasting.schema import CUSTOMER_ID, ORDER_DATE, ORDER_ID, PRODUCT_ID, TABLES
from forecasting.validate import _Checker, _check_date_problems, validate_tables

log = logging.getLogger(__name__)

CUSTOMER_TABLES = ("orders", "customers", "complaints", "surveys")  # bucketed by customer
ROW, FILE, CID, BUCKET, TABLE = "_row", "_file", "_cid", "_bucket", "_table"
KEY_RULES = ("duplicate key", "inconsistent order", "orphan customer id")
VALIDATE_ROWS = 500_000  # rows one Python worker validates at a time (the bucket size)
TABLES_KIND = {c.name: c.kind for t in TABLES.values() for c in t.columns}  # column -> kind


def spark_session(master: str = DEFAULT_SPARK_MASTER, spark: SparkSession | None = None,
                  **conf: str) -> SparkSession:
    """``spark`` when given (a cluster's session, e.g. on Databricks), else a session on
    ``master`` with UTC as the session time zone (naive timestamps stay as written)."""
    if spark is not None:
        return spark
    if master.startswith("local"):  # workers run this interpreter (its packages)
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (SparkSession.builder.master(master).appName("forecasting")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.ui.showConsoleProgress", "false"))
    for k, v in conf.items():
        builder = builder.config(k, v)
    return builder.getOrCreate()


@dataclass
class SparkTables:
    """The raw tables of a data set as Spark DataFrames (columns as stored, plus ``_row``,
    the read position, and for customer tables ``_cid``/``_bucket``), how each was read, the
    date format of each text date column and the ``now`` of the validation."""

    spark: SparkSession
    frames: dict[str, DataFrame]
    sources: dict[str, io.SourceInfo]
    now: pd.Timestamp
    buckets: int
    context: str = "input data"
    formats: dict[str, dict[str, str]] = field(default_factory=dict)

    def columns(self, name: str) -> list[str]:
        return [c for c in self.frames[name].columns if c not in (ROW, FILE, CID, BUCKET)]


# --- reading ---------------------------------------------------------------------------------
def find_sources(folder: str | Path) -> dict[str, Path]:
    """The contract tables of ``folder``: ``<table>.parquet`` or ``<table>.csv`` (.csv.gz,
    .tsv), each a file or a folder of part files."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ForecastingError(f"{folder}: not a folder; a data set is a folder with "
                               f"orders.parquet or orders.csv (a file or a folder of parts)")
    found: dict[str, list[Path]] = {}
    for f in sorted(folder.iterdir()):
        for ext in (".parquet", ".csv", ".csv.gz", ".tsv"):
            if f.name.lower().endswith(ext) and f.name[: -len(ext)] in TABLES:
                found.setdefault(f.name[: -len(ext)], []).append(f)
                break
        else:
            if f.suffix.lower() in (".xlsx", ".json") and f.stem in TABLES:
                raise ForecastingError(f"{f}: the Spark engine reads Parquet and CSV; write "
                                       f"{f.stem} as {f.stem}.parquet or {f.stem}.csv")
    clashes = {n: p for n, p in found.items() if len(p) > 1}
    if clashes:
        detail = "; ".join(f"{n}: {', '.join(x.name for x in p)}" for n, p in clashes.items())
        raise ForecastingError(
            f"{folder}: more than one file for the same table ({detail}); keep one per table")
    if "orders" not in found:
        raise ForecastingError(f"{folder}: no orders table; add orders.parquet or orders.csv")
    return {n: p[0] for n, p in found.items()}


def _first_file(path: Path) -> Path:
    if path.is_file():
        return path
    parts = sorted(p for p in path.rglob("*") if p.is_file()
                   and not p.name.startswith(("_", ".")))
    if not parts:
        raise ForecastingError(f"{path}: an empty folder")
    return parts[0]


def _csv_source(path: Path, name: str, options: io.ReadOptions) -> io.SourceInfo:
    """How a CSV table is written, detected by :func:`forecasting.io.read_source` on the head
    (64 KiB, whole lines) of its first file."""
    first = _first_file(path)
    head = io._head(first)
    if len(head) == io._SAMPLE_BYTES:
        head = head[: head.rfind(b"\n") + 1] or head
    suffix = ".tsv" if first.name.lower().endswith(".tsv") else ".csv"
    with tempfile.TemporaryDirectory() as tmp:
        sample = Path(tmp) / f"{name}{suffix}"
        sample.write_bytes(head)
        _, info = io.read_source(sample, options, table=name)
    info.file = path.name
    return info


def _read(spark: SparkSession, path: Path, name: str, options: io.ReadOptions,
          ) -> tuple[DataFrame, io.SourceInfo]:
    if path.name.lower().endswith(".parquet"):
        frame = spark.read.parquet(str(path))
        info = io.SourceInfo(file=path.name, kind="parquet")
    else:
        info = _csv_source(path, name, options)
        encoding = "utf-8" if info.encoding in (None, "utf-8-sig") else info.encoding
        frame = (spark.read.option("header", True).option("sep", info.sep or ",")
                 .option("encoding", encoding).option("multiLine", False)
                 .option("mode", "PERMISSIVE").csv(str(path)))  # every column as text
        if frame.columns:
            frame = frame.withColumnRenamed(frame.columns[0], frame.columns[0].lstrip("\ufeff"))
    for old, new in options.columns.get(name, {}).items():
        if old in frame.columns:
            frame = frame.withColumnRenamed(old, new)
            info.renamed[old] = new
    # the read position: file, then the increasing id of the rows Spark reads from it
    frame = frame.withColumn(ROW, F.monotonically_increasing_id())
    return frame.withColumn(FILE, F.input_file_name()), info


def customer_key(frame: DataFrame) -> F.Column:
    """The customer id as the validated text id (:func:`forecasting.validate._as_id`): text
    trimmed, whole numbers without ``.0``; empty is null. Only for bucketing."""
    kind = frame.schema[CUSTOMER_ID].dataType
    c = F.col(CUSTOMER_ID)
    if isinstance(kind, (T.FloatType, T.DoubleType, T.DecimalType)):
        text = F.when(c == F.floor(c), c.cast("long").cast("string")).otherwise(c.cast("string"))
    else:
        text = F.trim(c.cast("string"))
    return F.when(text != "", text)


def read_tables(folder: str | Path, spark: SparkSession, options: io.ReadOptions | None = None,
                now: pd.Timestamp | None = None, buckets: int | None = None,
                validate_rows: int = VALIDATE_ROWS) -> SparkTables:
    """Read and validate a data set folder with Spark; raises :class:`DataError` listing
    every broken rule, like :func:`forecasting.io.read_dataset`.

    ``buckets``: customer-hash buckets (default: one per 500,000 order lines, at least twice
    the default parallelism); ``validate_rows``: rows a Python worker validates at a time."""
    options = options or io.ReadOptions()
    now = pd.Timestamp.now() if now is None else pd.Timestamp(now)
    frames, sources = {}, {}
    for name, path in find_sources(folder).items():
        frames[name], sources[name] = _read(spark, path, name, options)
    if buckets is None:
        lines = frames["orders"].count()
        buckets = max(2 * spark.sparkContext.defaultParallelism, -(-lines // 500_000))
    for name in CUSTOMER_TABLES:
        if name in frames and CUSTOMER_ID in frames[name].columns:
            f = frames[name].withColumn(CID, customer_key(frames[name]))
            frames[name] = f.withColumn(BUCKET, F.pmod(F.xxhash64(CID), F.lit(buckets)))
    tables = SparkTables(spark, frames, sources, now, int(buckets), context=str(folder))
    validate(tables, options, validate_rows)
    return tables


# --- validation ------------------------------------------------------------------------------
def _date_columns(tables: SparkTables, name: str) -> list[str]:
    frame = tables.frames[name]
    return [c.name for c in TABLES[name].columns if c.kind == "datetime" and c.name in
            frame.columns and isinstance(frame.schema[c.name].dataType, T.StringType)]


def _detect_formats(tables: SparkTables, options: io.ReadOptions) -> list[Problem]:
    """Each text date column's format over all its rows (distinct values with counts, one
    Spark job for every column of every table)."""
    parts = [tables.frames[name].select(F.lit(name).alias("t"), F.lit(col).alias("c"),
                                        F.col(col).alias("v"))
             for name in tables.frames for col in _date_columns(tables, name)]
    if not parts:
        return []
    stacked = parts[0]
    for p in parts[1:]:
        stacked = stacked.unionByName(p)
    distinct = stacked.groupBy("t", "c", "v").count().toArrow().to_pandas()
    problems = []
    for (name, col), counts in distinct.groupby(["t", "c"], sort=False):
        frame = tables.frames[name]
        values = counts["v"].astype("str").where(counts["v"].notna()).reset_index(drop=True)
        r = parse_dates(values, options.date_format, counts["count"].to_numpy())
        if r.format is not None:
            tables.formats.setdefault(name, {})[col] = r.format
        bad = r.ambiguous if r.ambiguous is not None else r.mixed
        if bad is None or not bad.any():
            continue
        chk = _Checker()
        table = pd.DataFrame({col: values})
        _check_date_problems(chk, name, col, table, table[col].notna(), r,
                             options.date_format, {})
        offending = [v for v in values[bad].tolist() if v is not None]
        rows = frame.filter(F.col(col).isin(offending))
        for p in chk.problems[:1]:
            p.count = int(counts["count"].to_numpy()[bad].sum())
            p.rows = _rows_of(tables, name, rows.orderBy(FILE, ROW).limit(5), p.rows)
            problems.append(p)
    return problems


def _rows_of(tables: SparkTables, name: str, rows: DataFrame, like: list[dict]) -> list[dict]:
    """Example rows as :func:`forecasting.validate._examples` shows them, from Spark rows."""
    cols = [c for c in (like[0] if like else {}) if c != "row"]
    got = rows.select(FILE, ROW, *cols).toArrow().to_pandas()
    positions = _positions(tables, name, got[FILE].tolist(), got[ROW].to_numpy())
    return [{"row": int(pos), **{c: (None if pd.isna(v) else v) for c, v in
                                 zip(cols, rec)}}
            for pos, rec in zip(positions, got[cols].itertuples(index=False))]


def _positions(tables: SparkTables, name: str, files: list[str], ids: np.ndarray) -> np.ndarray:
    """1-based read positions (files in name order, rows in file order) of rows given by
    file and ``_row`` id."""
    cache = tables.__dict__.setdefault("_offsets", {})
    if name not in cache:
        per_file = tables.frames[name].groupBy(FILE).agg(
            F.min(ROW).alias("first"), F.count(F.lit(1)).alias("n")).toPandas()
        per_file = per_file.sort_values(FILE)
        offsets = np.cumsum(per_file["n"].to_numpy()) - per_file["n"].to_numpy()
        cache[name] = {f: (int(o), int(first)) for f, o, first in
                       zip(per_file[FILE], offsets, per_file["first"])}
    return np.array([cache[name][f][0] + int(i) - cache[name][f][1] + 1
                     for f, i in zip(files, ids)], dtype=np.int64)


def stack(tables: SparkTables, columns: dict[str, list[str]], *extra: str) -> DataFrame:
    """Several tables in one frame (one Spark job for all): ``_table``, the ``extra``
    columns and each table's ``columns`` as ``<table>__<column>``."""
    parts = [tables.frames[n].select(F.lit(n).alias(TABLE), *extra,
                                     *[F.col(c).alias(f"{n}__{c}") for c in cols])
             for n, cols in columns.items()]
    out = parts[0]
    for p in parts[1:]:
        out = out.unionByName(p, allowMissingColumns=True)
    return out


def unstack(table: pa.Table, name: str, columns: list[str]) -> pa.Table:
    """The rows and columns of table ``name`` in a :func:`stack` (Arrow)."""
    part = table.filter(pc.equal(table.column(TABLE), name))
    return part.select([f"{name}__{c}" for c in columns]).rename_columns(columns)


def _partition_problems(columns: dict[str, list[str]], now: pd.Timestamp,
                        decimals: dict[str, str], formats: dict[str, dict[str, str]],
                        chunk_rows: int = VALIDATE_ROWS):
    """The function validating one Spark partition of a :func:`stack` (row rules only), in
    chunks of about ``chunk_rows`` rows: a partition is an input split (up to
    ``spark.sql.files.maxPartitionBytes`` of compressed Parquet, millions of lines), so
    holding one whole in pandas would make a Python worker's memory grow with the files."""
    def run(batches):
        pending, rows = [], 0
        for batch in batches:
            if not batch.num_rows:
                continue
            pending.append(batch)
            rows += batch.num_rows
            if rows >= chunk_rows:
                yield from check(pending)
                pending, rows = [], 0
        if pending:
            yield from check(pending)

    def check(batches):
        stacked = pa.Table.from_batches(batches)
        out = []
        for name in pc.unique(stacked.column(TABLE)).to_pylist():
            mine = stacked.filter(pc.equal(stacked.column(TABLE), name))
            row_ids = mine.column(ROW).to_numpy()
            files = mine.column(FILE).to_pylist()
            raw = unstack(mine, name, columns[name]).to_pandas()
            report = validate_tables(
                {name: raw}, now=now,
                sources={name: io.SourceInfo(name, "part", decimal=decimals[name])},
                column_formats={name: formats.get(name, {})})
            for p in report.problems:
                if p.rule in KEY_RULES or p.rule == "missing table":
                    continue
                rows = [{**r, "row": int(row_ids[r["row"] - 1]), FILE: files[r["row"] - 1]}
                        for r in p.rows]
                out.append(json.dumps({"table": p.table, "column": p.column, "rule": p.rule,
                                       "count": p.count, "message": p.message, "fix": p.fix,
                                       "rows": rows}, default=str))
            for what, n in report.repairs.items():
                out.append(json.dumps({"repair": what, "count": n}))
        if out:
            yield pa.RecordBatch.from_pydict({"item": out})
    return run


def _key_columns(tables: SparkTables, name: str) -> list[str]:
    want = [*TABLES[name].key, CUSTOMER_ID] + ([PRODUCT_ID, ORDER_DATE]
                                               if name == "orders" else [])
    frame = tables.frames[name]
    return [c for c in dict.fromkeys(want) if c in frame.columns]


def _text(frame: DataFrame, col: str) -> F.Column:
    """A column compared as validation compares it: ids as :func:`customer_key`, numbers as
    doubles, the rest as trimmed text (a pre-filter: the driver then decides exactly)."""
    if col == CUSTOMER_ID or TABLES_KIND.get(col) == "id":
        c = F.col(col)
        kind = frame.schema[col].dataType
        if isinstance(kind, (T.FloatType, T.DoubleType, T.DecimalType)):
            text = F.when(c == F.floor(c), c.cast("long").cast("string")).otherwise(
                c.cast("string"))
        else:
            text = F.trim(c.cast("string"))
        return F.when(text != "", text)
    if TABLES_KIND.get(col) in ("number", "int"):
        return F.trim(F.col(col).cast("string")).cast("double")
    return F.trim(F.col(col).cast("string"))


def _suspects(tables: SparkTables) -> dict[str, dict[str, DataFrame]]:
    """Per rule across rows, per table: the rows that may break it (all rows of a repeated
    key, all lines of an order with two customers or dates, ids missing from customers),
    found by Spark aggregations; usually none."""
    out: dict[str, dict[str, DataFrame]] = {r: {} for r in KEY_RULES}
    known = None
    if "customers" in tables.frames and CID in tables.frames["customers"].columns:
        known = tables.frames["customers"].select(CID).where(F.col(CID).isNotNull()).distinct()
    for name, frame in tables.frames.items():
        key = list(TABLES[name].key)
        if name == "orders" and "line_no" not in frame.columns:
            key = [ORDER_ID, PRODUCT_ID]
        if key and all(k in frame.columns for k in key):
            norm = frame.select("*", *[_text(frame, k).alias(f"_k{i}")
                                       for i, k in enumerate(key)])
            ks = [f"_k{i}" for i in range(len(key))]
            repeated = norm.groupBy(*ks).count().filter(F.col("count") > 1).drop("count")
            out["duplicate key"][name] = norm.join(repeated, ks, "inner").drop(*ks)
        if name == "orders" and ORDER_ID in frame.columns:
            same = [c for c in (CUSTOMER_ID, ORDER_DATE) if c in frame.columns]
            norm = frame.select("*", _text(frame, ORDER_ID).alias("_o"),
                                *[_text(frame, c).alias(f"_s{i}") for i, c in enumerate(same)])
            mixed = norm.groupBy("_o").agg(*[F.countDistinct(f"_s{i}").alias(f"_n{i}")
                                             for i in range(len(same))])
            mixed = mixed.filter(" or ".join(f"_n{i} > 1" for i in range(len(same))) or "false")
            out["inconsistent order"][name] = norm.join(
                mixed.select("_o"), "_o", "inner").drop("_o", *[f"_s{i}"
                                                                 for i in range(len(same))])
        if known is not None and name in ("orders", "complaints", "surveys") \
                and CID in frame.columns:
            out["orphan customer id"][name] = frame.where(F.col(CID).isNotNull()).join(
                known, CID, "left_anti")
    return out


def _cross_row_problems(tables: SparkTables) -> list[Problem]:
    """Duplicate keys, inconsistent orders and orphan ids: Spark finds the suspect rows, the
    driver runs :func:`validate_tables` over them only (their key columns), per rule."""
    problems = []
    customers = None
    if "customers" in tables.frames:
        customers = pd.DataFrame({CUSTOMER_ID: pd.Series([], dtype=object)})
    for rule, per_table in _suspects(tables).items():
        frames, where = {}, {}
        for name, rows in per_table.items():
            cols = _key_columns(tables, name)
            got = rows.select(FILE, ROW, *cols).toArrow().sort_by(
                [(FILE, "ascending"), (ROW, "ascending")])
            if got.num_rows == 0:
                continue
            where[name] = (got.column(FILE).to_pylist(), got.column(ROW).to_numpy())
            frames[name] = got.select(cols).to_pandas()
        if not frames:
            continue
        if rule == "orphan customer id" and customers is not None:
            frames.setdefault("customers", customers)
        if "orders" not in frames:
            frames["orders"] = pd.DataFrame({c: pd.Series([], dtype=object)
                                             for c in _key_columns(tables, "orders")})
        report = validate_tables(frames, now=tables.now, column_formats=tables.formats)
        for p in report.problems:
            if p.rule != rule or p.table not in where:
                continue
            files, ids = where[p.table]
            idx = [r["row"] - 1 for r in p.rows]
            for r, pos in zip(p.rows, _positions(tables, p.table, [files[i] for i in idx],
                                                 ids[idx])):
                r["row"] = int(pos)
            problems.append(p)
    return problems


def validate(tables: SparkTables, options: io.ReadOptions,
             validate_rows: int = VALIDATE_ROWS) -> None:
    """Every rule of :mod:`forecasting.validate`; raises :class:`DataError` when one breaks."""
    problems = _detect_formats(tables, options)
    repairs: dict[str, int] = {}
    merged: dict[tuple, Problem] = {}
    columns = {n: tables.columns(n) for n in tables.frames}
    run = _partition_problems(columns, tables.now,
                              {n: tables.sources[n].decimal for n in tables.frames},
                              tables.formats, validate_rows)
    stacked = stack(tables, columns, FILE, ROW)
    items = stacked.mapInArrow(run, "item string").toArrow().column("item").to_pylist()
    for item in map(json.loads, items):
        if "repair" in item:
            repairs[item["repair"]] = repairs.get(item["repair"], 0) + item["count"]
            continue
        key = (item["table"], item["column"], item["rule"], item["message"], item["fix"])
        p = merged.setdefault(key, Problem(*key[:3], 0, *key[3:], rows=[]))
        p.count += item["count"]
        p.rows += item["rows"]
    for p in merged.values():
        files = [r.pop(FILE) for r in p.rows]
        ids = np.array([r["row"] for r in p.rows], dtype=np.int64)
        for r, pos in zip(p.rows, _positions(tables, p.table, files, ids)):
            r["row"] = int(pos)
        p.rows = sorted(p.rows, key=lambda r: r["row"])[:5]
    problems += list(merged.values())
    if tables.frames["orders"].limit(1).count() == 0:
        problems.append(Problem("orders", None, "missing table",
                                0, "the orders table is absent or empty",
                                "provide orders.csv or orders.parquet with at least one row"))
    problems += _cross_row_problems(tables)
    for what, n in repairs.items():
        log.info("repaired %d value(s): %s", n, what)
    if problems:
        raise DataError(problems, context=tables.context)
    log.info("validated %s with Spark: %s", tables.context, ", ".join(
        f"{n} {tables.frames[n].count():,}" for n in tables.frames) if log.isEnabledFor(
            logging.DEBUG) else "ok")
