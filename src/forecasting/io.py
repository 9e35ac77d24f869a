"""Reading and writing tables: the only module that touches data files.

A data set is a folder with one file per table, named after it: ``orders.csv`` or
``orders.parquet`` (also ``.csv.gz``, ``.pq``). CSV files are read with every column as text, so
that ids keep their exact spelling (``"00123"`` stays ``"00123"``); validation
(:mod:`forecasting.validate`) then parses dates and numbers and reports what does not parse.

Example:
    >>> import tempfile, pandas as pd
    >>> d = tempfile.mkdtemp()
    >>> write_table(pd.DataFrame({"customer_id": ["007"]}), f"{d}/customers.csv")
    >>> read_table(f"{d}/customers.csv")["customer_id"].tolist()
    ['007']
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from forecasting.errors import ForecastingError
from forecasting.schema import TABLES

log = logging.getLogger(__name__)

_CSV = (".csv", ".csv.gz", ".tsv")
_PARQUET = (".parquet", ".pq")
_JSON = (".json",)


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for ext in (*_CSV, *_PARQUET, *_JSON):
        if name.endswith(ext):
            return ext
    return path.suffix.lower()


def read_table(path: str | Path) -> pd.DataFrame:
    """One table from a CSV, Parquet or JSON (records) file, chosen by extension.

    CSV columns are all text (empty cells are missing); Parquet keeps its stored types.
    """
    path = Path(path)
    if not path.exists():
        raise ForecastingError(f"{path}: file not found")
    ext = _suffix(path)
    try:
        if ext in _CSV:
            return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""],
                               sep="\t" if ext == ".tsv" else ",")
        if ext in _PARQUET:
            return pd.read_parquet(path)
        if ext in _JSON:
            return pd.read_json(path, orient="records", dtype=False)
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise ForecastingError(f"{path}: cannot be read as {ext[1:]}: {exc}") from exc
    raise ForecastingError(
        f"{path}: unknown file type {ext!r}; use .csv, .csv.gz, .tsv, .parquet or .json")


def write_table(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a table as CSV, Parquet or JSON (records) by extension; creates the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ext = _suffix(path)
    if ext in _CSV:
        df.to_csv(path, index=False, date_format="%Y-%m-%d %H:%M:%S",
                  sep="\t" if ext == ".tsv" else ",")
    elif ext in _PARQUET:
        df.to_parquet(path, index=False)
    elif ext in _JSON:
        path.write_text(df.to_json(orient="records", date_format="iso", indent=1))
    else:
        raise ForecastingError(
            f"{path}: unknown output type {ext!r}; use .csv, .parquet or .json")
    return path


def write_json(obj, path: str | Path) -> Path:
    """Write a JSON document (a report, a summary); creates the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, default=str))
    return path


def find_tables(folder: str | Path) -> dict[str, Path]:
    """The contract tables present in ``folder``, by name (``orders`` -> its file)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ForecastingError(
            f"{folder}: not a folder; a data set is a folder with orders.csv or "
            f"orders.parquet (and optionally customers, complaints, surveys, inventory)")
    found: dict[str, list[Path]] = {}
    for f in sorted(folder.iterdir()):
        ext = _suffix(f)
        if f.is_file() and ext in (*_CSV, *_PARQUET):
            name = f.name[: -len(ext)]
            if name in TABLES:
                found.setdefault(name, []).append(f)
    clashes = {n: p for n, p in found.items() if len(p) > 1}
    if clashes:
        detail = "; ".join(f"{n}: {', '.join(x.name for x in p)}" for n, p in clashes.items())
        raise ForecastingError(
            f"{folder}: more than one file for the same table ({detail}); keep one per table")
    return {n: p[0] for n, p in found.items()}


def read_raw_tables(folder: str | Path) -> dict[str, pd.DataFrame]:
    """Every contract table in ``folder``, unvalidated, by name."""
    files = find_tables(folder)
    if "orders" not in files:
        raise ForecastingError(
            f"{folder}: no orders table; add orders.csv or orders.parquet with columns "
            f"{', '.join(TABLES['orders'].required_columns())}")
    tables = {}
    for name, path in files.items():
        tables[name] = read_table(path)
        log.debug("read %s: %d rows from %s", name, len(tables[name]), path)
    return tables


def read_dataset(folder: str | Path, now: pd.Timestamp | None = None):
    """Read and validate a data set folder.

    Returns a :class:`forecasting.dataset.Dataset`; raises
    :class:`forecasting.errors.DataError` listing every broken rule. ``now`` is the instant
    after which dates count as "in the future" (default: the current time).
    """
    from forecasting.validate import validate_tables

    report = validate_tables(read_raw_tables(folder), now=now, context=str(folder))
    report.raise_if_failed()
    return report.dataset


def read_series(path: str | Path) -> pd.DataFrame:
    """A long series table (``unique_id``, ``ds``, ``y``) as stored; validated by the caller."""
    return read_table(path)
