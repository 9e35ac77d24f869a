"""Validation of the data contract: one check per rule, every problem reported at once.

:func:`validate_tables` takes the raw tables of a data set (as read by :mod:`forecasting.io`),
parses them into the contract's types and checks every rule of ``PRODUCT.md``:

==========================  ==========================================================
rule                        what it means
==========================  ==========================================================
missing table               the data set has no ``orders`` table (or it is empty)
missing column              a required column is absent
missing value               a required value is empty
wrong type                  a number or id column holds something else (``"abc"``, ``inf``)
unparseable date            a date that is not a real calendar date (``2023-13-45``)
mixed date formats          one column needs two formats (``13/01/2024``, ``01/14/2024``)
ambiguous date format       every value reads day-first and month-first, differently
not a whole number          ``line_no`` with a fraction
out of range                csat/dimensions outside 1-5, nps outside 0-10, stock below 0
unknown value               an order status outside completed/cancelled/returned
duplicate key               two rows share a key (orders: order_id + line_no, else
                            order_id + product_id; customers: customer_id; ...)
negative quantity           quantity or amount below 0 on a line that is not ``returned``
inconsistent order          lines of one order name different customers or dates
delivered before ordered    delivered_date (or promised_date) before order_date
resolved before opened      a complaint closed before it was opened
future date                 a date after ``now``
orphan customer id          a customer id in orders/complaints/surveys that the customers
                            table does not have (only checked when it is present)
==========================  ==========================================================

Repairs are not problems but are counted and reported, never silent: an unknown complaint
category becomes ``other``; an empty order status means ``completed``; text values are
stripped of surrounding spaces and categories lower-cased.

Example:
    >>> import pandas as pd
    >>> raw = {"orders": pd.DataFrame({"order_id": ["1"], "customer_id": ["c"],
    ...        "product_id": ["p"], "order_date": ["2023-13-45"], "quantity": ["1"]})}
    >>> report = validate_tables(raw, now=pd.Timestamp("2024-01-01"))
    >>> sorted((p.column, p.rule) for p in report.problems)
    [('amount', 'missing column'), ('order_date', 'unparseable date')]
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from forecasting.dataset import Dataset
from forecasting.dates import ISO, DateParse, parse_dates
from forecasting.errors import DataError, Problem
from forecasting.schema import (
    AMOUNT, COMPLAINTS, CUSTOMER_ID, DELIVERED_DATE, LINE_NO, OPENED_AT, ORDER_DATE, ORDER_ID,
    PRODUCT_ID, PROMISED_DATE, QUANTITY, RESOLVED_AT, STATUS, STATUS_COMPLETED, STATUS_RETURNED,
    TABLES, Column, Table,
)

from forecasting.io import DOT_THOUSANDS, ReadOptions, SourceInfo

log = logging.getLogger(__name__)

MAX_EXAMPLES = 5


@dataclass
class ValidationReport:
    """The outcome of validating one data set: problems, repairs and the parsed tables."""

    problems: list[Problem]
    repairs: dict[str, int]
    tables: dict[str, pd.DataFrame]
    context: str = "input data"
    dataset: Dataset | None = field(default=None)
    reading: list[str] = field(default_factory=list)  # per table: how it was read and parsed

    @property
    def ok(self) -> bool:
        return not self.problems

    def raise_if_failed(self) -> None:
        if self.problems:
            raise DataError(self.problems, context=self.context)

    def summary(self) -> pd.DataFrame:
        """Per table: rows, distinct customers, first and last date."""
        rows = []
        for name, df in self.tables.items():
            spec = TABLES[name]
            dates = [c.name for c in spec.columns if c.kind == "datetime" and c.name in df
                     and c.name in spec.not_future[:1]]
            first = last = None
            if dates:
                s = df[dates[0]].dropna()
                if len(s):
                    first, last = s.min().date().isoformat(), s.max().date().isoformat()
            customers = (int(df[CUSTOMER_ID].dropna().nunique())
                         if CUSTOMER_ID in df else pd.NA)
            rows.append({"table": name, "rows": len(df), "customers": customers,
                         "first_date": first, "last_date": last})
        out = pd.DataFrame(rows)
        out["customers"] = out["customers"].astype("Int64")
        return out


# --- helpers ---------------------------------------------------------------------------------
def _examples(df: pd.DataFrame, mask: np.ndarray | pd.Series, columns: list[str]) -> list[dict]:
    """Up to five offending rows: their 1-based data row number and the columns that matter."""
    idx = np.flatnonzero(np.asarray(mask))[:MAX_EXAMPLES]
    cols = [c for c in dict.fromkeys(columns) if c in df]
    out = []
    for i in idx:
        row: dict[str, Any] = {"row": int(i) + 1}
        for c in cols:
            v = df[c].iat[i]
            row[c] = None if pd.isna(v) else (v.isoformat() if isinstance(v, pd.Timestamp)
                                              else v.item() if hasattr(v, "item") else v)
        out.append(row)
    return out


class _Checker:
    """Collects problems and repairs while parsing tables."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.repairs: dict[str, int] = {}

    def problem(self, table: str, column: str | None, rule: str, df: pd.DataFrame, mask,
                message: str, fix: str, show: list[str] | None = None) -> None:
        mask = np.asarray(mask, dtype=bool)
        count = int(mask.sum())
        if count == 0:
            return
        show = show or []
        key = [c for c in TABLES[table].key if c in df] if table in TABLES else []
        cols = key + ([column] if column else []) + show
        self.problems.append(Problem(table=table, column=column, rule=rule, count=count,
                                     message=message, fix=fix,
                                     rows=_examples(df, mask, cols)))

    def table_problem(self, table: str, column: str | None, rule: str, message: str,
                      fix: str, count: int = 0) -> None:
        self.problems.append(Problem(table, column, rule, count, message, fix))

    def repair(self, what: str, count: int) -> None:
        if count:
            self.repairs[what] = self.repairs.get(what, 0) + int(count)


def _as_id(s: pd.Series) -> pd.Series:
    """Ids as text: integral floats lose their ``.0`` (``17850.0`` -> ``"17850"``)."""
    if pd.api.types.is_float_dtype(s):
        whole = s.dropna()
        if len(whole) and bool((whole == np.floor(whole)).all()):
            s = s.astype("Int64")
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        out = s.astype("string").astype(object)
    else:
        out = s.astype(object)
    out = out.where(pd.notna(out), None)
    text = pd.Series(out, index=s.index).astype("str")
    text = text.str.strip()
    return text.mask(pd.isna(s) | (text == ""))


def _arrow(s: pd.Series) -> pa.Array:
    """The column as one Arrow array (no copy of the values for Arrow-backed text)."""
    arr = pa.array(s.array)
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _codes(s: pd.Series) -> np.ndarray:
    """Integer codes 0..n-1 of a column's distinct values, -1 where missing."""
    if isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow":
        enc = pc.dictionary_encode(_arrow(s)).indices  # Arrow's hash, no Python objects
        return pc.fill_null(enc, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return pd.factorize(s)[0].astype(np.int64)


def _key_codes(df: pd.DataFrame, columns: list[str], cache: dict) -> np.ndarray:
    """One integer per row for the combination of ``columns`` (-1 when one is missing);
    ``cache`` keeps each column's codes for the other checks of the same table."""
    out = np.zeros(len(df), np.int64)
    missing = np.zeros(len(df), bool)
    for c in columns:
        if c not in cache:
            cache[c] = _codes(df[c])
        codes = cache[c]
        missing |= codes < 0
        width = int(codes.max(initial=0)) + 1
        if int(out.max(initial=0)) >= (1 << 62) // width:  # keep the combination in int64
            out = pd.factorize(out)[0]
        out = out * width + codes
    return np.where(missing, -1, out)


def _isin(s: pd.Series, values: pd.Series) -> np.ndarray:
    """``s.isin(values)`` through Arrow's hash kernel (pandas builds Python lists for text)."""
    try:
        found = pc.is_in(_arrow(s), value_set=_arrow(values))
        return pc.fill_null(found, False).to_numpy(zero_copy_only=False)
    except (pa.ArrowException, TypeError):
        return s.isin(values).to_numpy()


_ISO_FIX = "write dates as YYYY-MM-DD or YYYY-MM-DD HH:MM:SS (real calendar dates)"


def _check_dates(chk: _Checker, t: str, name: str, df: pd.DataFrame, present,
                 date_format: str | None, formats: dict[str, str]) -> pd.Series:
    """Parse one date column with one format (given or detected) and report what does not fit."""
    return _check_date_problems(chk, t, name, df, present, parse_dates(df[name], date_format),
                                date_format, formats)


def _check_date_problems(chk: _Checker, t: str, name: str, df: pd.DataFrame, present,
                         r: DateParse, date_format: str | None,
                         formats: dict[str, str]) -> pd.Series:
    """The problems of a parsed date column (``r``); its values."""
    if r.format is not None:
        formats[name] = f"{r.format} ({'detected' if r.detected else 'given'})"
    if r.ambiguous is not None:
        chk.problem(t, name, "ambiguous date format", df, r.ambiguous,
                    "every value reads both day-first and month-first (no day above 12), "
                    "so 01/02/2024 could be 1 February or 2 January",
                    f"say which with --date-format dayfirst or --date-format monthfirst (or "
                    f"a pattern such as %d/%m/%Y) for {t}.{name}")
        return r.values.where(~r.ambiguous)
    if r.mixed is not None:
        chk.problem(t, name, "mixed date formats", df, r.mixed,
                    f"these values read only as {r.other_format}, the others as {r.format}: "
                    f"one column needs one format",
                    f"write every {t}.{name} in one format (YYYY-MM-DD is safest), or correct "
                    f"these rows, or give --date-format")
    unread = present.to_numpy() & r.values.isna().to_numpy()
    if r.mixed is not None:
        unread &= ~r.mixed
    if date_format is not None and date_format != ISO:
        fix = f"dates in {t}.{name} must match --date-format {date_format!r} (real dates)"
    elif r.format in (ISO, None):
        fix = f"{_ISO_FIX} in {t}.{name}"
    else:
        fix = f"write every {t}.{name} as {r.format} dates (real calendar dates)"
    chk.problem(t, name, "unparseable date", df, unread, "not a valid date", fix)
    return r.values


def _to_number(raw: pd.Series, decimal: str) -> pd.Series:
    """Numbers from text; with a decimal comma, a dot is read only as a thousands separator
    (``1.234,56``); ``1.5`` or ``12.34,5`` then do not parse."""
    if pd.api.types.is_bool_dtype(raw):
        return raw.astype(float)
    if pd.api.types.is_numeric_dtype(raw):
        return raw.astype(float)
    text = raw if pd.api.types.is_string_dtype(raw) else raw.astype("str").where(raw.notna())
    if isinstance(text.dtype, pd.StringDtype) and text.dtype.storage == "pyarrow":
        arr = pc.utf8_trim_whitespace(_arrow(text))
        if decimal == ",":  # dots only as thousands separators, else pandas marks the rows
            dotted = pc.match_substring(arr, ".")
            if pc.any(dotted).as_py():
                grouped = pc.match_substring_regex(arr, DOT_THOUSANDS)
                arr = pc.replace_substring(arr, ".", "") if pc.all(
                    pc.or_(pc.invert(dotted), grouped)).as_py() else None
            if arr is not None:
                arr = pc.replace_substring(arr, ",", ".")
        try:  # Arrow's parser: fast, and an error on the first value it cannot read
            if arr is not None:
                num = pc.cast(arr, pa.float64())
                return pd.Series(num.to_numpy(zero_copy_only=False), index=raw.index)
        except pa.ArrowInvalid:
            pass  # some value is not a number: pandas below marks which
    if decimal == ",":
        text = text.str.strip()
        dotted = text.str.contains(".", regex=False).fillna(False).astype(bool)
        grouped = text.str.match(DOT_THOUSANDS).fillna(False).astype(bool)
        text = text.mask(grouped, text.str.replace(".", "", regex=False))
        text = text.str.replace(",", ".", regex=False).mask(dotted & ~grouped, "not a number")
    return pd.to_numeric(text, errors="coerce").astype(float)


def _parse_column(chk: _Checker, table: Table, df: pd.DataFrame, col: Column,
                  decimal: str = ".", date_format: str | None = None,
                  formats: dict[str, str] | None = None) -> pd.Series:
    raw = df[col.name]
    present = raw.notna()
    stripped = None  # text without surrounding spaces, computed once per column
    if raw.dtype == object or pd.api.types.is_string_dtype(raw):
        stripped = raw.astype("str").str.strip()
        present &= stripped != ""
    name, t = col.name, table.name
    if col.kind == "id":
        out = stripped.mask(~present) if stripped is not None and raw.dtype != object \
            else _as_id(raw)
    elif col.kind == "datetime":
        out = _check_dates(chk, t, name, df, present, date_format,
                           formats if formats is not None else {})
    elif col.kind in ("number", "int"):
        num = _to_number(raw, decimal)
        bad = present & (num.isna() | ~np.isfinite(num.fillna(0)))
        hint = ""
        if bad.any() and not pd.api.types.is_numeric_dtype(raw):
            shown = raw[bad].astype("str")
            if decimal == "." and shown.str.match(r"^\s*[+-]?\d*,\d+\s*$").any():
                hint = "; numbers with a decimal comma (12,5)? give --decimal ,"
            elif decimal == "." and shown.str.contains(",", regex=False).any():
                hint = "; with the decimal '.', no thousands separators: write 1234.56"
            elif decimal == "," and shown.str.contains(".", regex=False).any():
                hint = ("; the decimal separator is ',' so a '.' is read only as a thousands "
                        "separator (1.234,5); or give --decimal .")
        chk.problem(t, name, "wrong type", df, bad, "not a finite number",
                    f"{t}.{name} must hold numbers only (no text, no inf){hint}")
        out = num.where(~bad)
        if col.kind == "int":
            frac = out.notna() & (out != np.floor(out.fillna(0)))
            chk.problem(t, name, "not a whole number", df, frac, "must be a whole number",
                        f"round {t}.{name} to whole numbers")
        lo, hi = col.min, col.max
        if lo is not None or hi is not None:
            outside = out.notna() & (((out < lo) if lo is not None else False)
                                     | ((out > hi) if hi is not None else False))
            rng = f"{lo:g}..{hi:g}" if lo is not None and hi is not None else (
                f">= {lo:g}" if lo is not None else f"<= {hi:g}")
            chk.problem(t, name, "out of range", df, outside, f"must be {rng}",
                        f"keep {t}.{name} within {rng}")
    elif col.kind == "category":
        text = (stripped if stripped is not None else raw.astype("str").str.strip()
                ).str.lower().mask(~present)
        unknown = text.notna() & ~text.isin(col.allowed or ())
        if col.repair_to is not None:
            chk.repair(f"{t}.{name}: unknown value -> {col.repair_to}", int(unknown.sum()))
            text = text.mask(unknown, col.repair_to)
        else:
            chk.problem(t, name, "unknown value", df, unknown,
                        f"must be one of {', '.join(col.allowed or ())}",
                        f"use one of {', '.join(col.allowed or ())} in {t}.{name} "
                        f"(or leave it empty)")
        out = text
    else:
        out = (stripped if stripped is not None else raw.astype("str").str.strip()
               ).mask(~present)
    if not col.nullable:
        missing = ~present
        chk.problem(t, name, "missing value", df, missing, "required value is empty",
                    f"fill every {t}.{name}, or drop those rows")
    return out


def _parse_table(chk: _Checker, table: Table, raw: pd.DataFrame, decimal: str = ".",
                 date_format: str | None = None,
                 formats: dict[str, str] | None = None,
                 column_formats: dict[str, str] | None = None) -> pd.DataFrame | None:
    df = raw.copy()
    df.columns = pd.Index([str(c).strip() for c in df.columns], dtype=object)
    missing = [c for c in table.required_columns() if c not in df]
    one = str(df.columns[0]) if len(df.columns) == 1 else ""
    seps = [sep for sep in (";", ",", "\t", "|") if sep in one]
    for c in missing:
        similar = [x for x in df.columns if x.lower().replace(" ", "_") == c]
        hint = f"; found {similar[0]!r}, rename it to {c!r}" if similar else ""
        if seps:
            hint += (f"; the whole header was read as one column: the delimiter looks like "
                     f"{seps[0]!r}, give --sep {seps[0]!r}")
        elif not similar:
            hint += ("; if the file names it differently, map it with --columns FILE "
                     f"([{table.name}] then \"their name\" = \"{c}\")")
        chk.table_problem(table.name, c, "missing column",
                          f"required column {c!r} is absent (columns present: "
                          f"{', '.join(map(str, raw.columns)) or 'none'})",
                          f"add the column {c!r} to {table.name}{hint}")
    if df.columns.duplicated().any():
        dup = sorted(set(df.columns[df.columns.duplicated()]))
        chk.table_problem(table.name, dup[0], "duplicate column",
                          f"columns appear twice: {', '.join(dup)}", "keep one of each")
        df = df.loc[:, ~df.columns.duplicated()]
    for col in table.columns:
        if col.name in df:
            fmt = (column_formats or {}).get(col.name, date_format)
            df[col.name] = _parse_column(chk, table, df, col, decimal, fmt, formats)
    return df


def _check_key(chk: _Checker, table: Table, df: pd.DataFrame, cache: dict) -> None:
    key = list(table.key)
    if table.name == "orders" and LINE_NO not in df:
        key = [ORDER_ID, PRODUCT_ID]
    if not key or any(k not in df for k in key):
        return
    codes = _key_codes(df, key, cache)
    dup = pd.Series(codes).duplicated(keep=False).to_numpy() & (codes >= 0)
    fix = "keep one row per key (remove exact duplicates)"
    if table.name == "orders":
        fix += "; give order lines a line_no when one order holds the same product twice"
    chk.problem(table.name, "+".join(key), "duplicate key", df, dup,
                f"rows share the same {' + '.join(key)}", fix, show=key)


def _check_orders(chk: _Checker, df: pd.DataFrame, now: pd.Timestamp, cache: dict) -> None:
    if STATUS in df:
        empty = df[STATUS].isna()
        chk.repair("orders.status: empty -> completed", int(empty.sum()))
        df[STATUS] = df[STATUS].fillna(STATUS_COMPLETED)
    else:
        df[STATUS] = STATUS_COMPLETED
    returned = df[STATUS] == STATUS_RETURNED
    for col in (QUANTITY, AMOUNT):
        if col in df:
            neg = (df[col] < 0) & ~returned
            chk.problem("orders", col, "negative quantity", df, neg,
                        f"{col} below 0 on a line that is not returned",
                        f"mark return lines with status 'returned', or correct {col}",
                        show=[STATUS])
    if ORDER_DATE in df:
        day = df[ORDER_DATE].dt.normalize()
        for col in (DELIVERED_DATE, PROMISED_DATE):
            if col in df:
                early = df[col].notna() & day.notna() & (df[col].dt.normalize() < day)
                chk.problem("orders", col, "delivered before ordered", df, early,
                            f"{col} is before order_date",
                            f"check {col} and order_date of these lines", show=[ORDER_DATE])
    same = [c for c in (CUSTOMER_ID, ORDER_DATE) if c in df]
    if ORDER_ID in df and same and len(df):
        order = cache[ORDER_ID] if ORDER_ID in cache else _codes(df[ORDER_ID])
        bad_order = np.zeros(int(order.max(initial=-1)) + 2, bool)  # last slot: no order id
        for col in same:  # lines whose known value differs from the order's first known value
            value = _codes(df[col])
            known = (value >= 0) & (order >= 0)
            first = np.full(len(bad_order), -1, np.int64)
            first[order[known][::-1]] = value[known][::-1]
            bad_order[order[known & (value != first[order])]] = True
        bad_order[-1] = False
        if bad_order.any():
            chk.problem("orders", ORDER_ID, "inconsistent order", df, bad_order[order],
                        "lines of one order have different customer_id or order_date",
                        "give every line of an order the same customer and date, or use "
                        "separate order ids", show=[CUSTOMER_ID, ORDER_DATE])


def _check_future(chk: _Checker, table: Table, df: pd.DataFrame, now: pd.Timestamp) -> None:
    for col in table.not_future:
        if col in df and pd.api.types.is_datetime64_any_dtype(df[col]):
            chk.problem(table.name, col, "future date", df, df[col] > now,
                        f"date after now ({now:%Y-%m-%d %H:%M})",
                        f"correct {table.name}.{col}; events cannot lie in the future")


def _check_orphans(chk: _Checker, tables: dict[str, pd.DataFrame]) -> None:
    customers = tables.get("customers")
    if customers is None or CUSTOMER_ID not in customers:
        return
    known = customers[CUSTOMER_ID].dropna().drop_duplicates()
    for name in ("orders", "complaints", "surveys"):
        df = tables.get(name)
        if df is None or CUSTOMER_ID not in df:
            continue
        orphan = df[CUSTOMER_ID].notna().to_numpy() & ~_isin(df[CUSTOMER_ID], known)
        chk.problem(name, CUSTOMER_ID, "orphan customer id", df, orphan,
                    "customer_id not in the customers table",
                    "add these customers to customers, or correct the ids")


def validate_tables(raw: dict[str, pd.DataFrame], now: pd.Timestamp | None = None,
                    context: str = "input data", options: ReadOptions | None = None,
                    sources: dict[str, SourceInfo] | None = None,
                    column_formats: dict[str, dict[str, str]] | None = None) -> ValidationReport:
    """Parse and check every table; returns the report (with a Dataset when there is no problem).

    ``raw`` maps table names (``orders``, ``customers``, ...) to DataFrames as read from files.
    ``now`` is the instant after which dates are "in the future" (default: the current time).
    ``options.date_format`` fixes the date format of every date column (default: detected per
    column, :mod:`forecasting.dates`); ``sources`` (from :func:`forecasting.io.read_sources`)
    give each file's decimal separator and how it was read, for ``report.reading``.
    ``column_formats`` (table -> column -> format) fixes the format of single date columns:
    the Spark engine detects each column's format once over all rows, then validates its
    parts with it. Tables are never modified in place.
    """
    now = pd.Timestamp.now() if now is None else pd.Timestamp(now)
    chk = _Checker()
    unknown = sorted(set(raw) - set(TABLES))
    if unknown:
        raise ValueError(f"not contract tables: {unknown}")
    parsed: dict[str, pd.DataFrame] = {}
    if "orders" not in raw or len(raw["orders"]) == 0:
        chk.table_problem("orders", None, "missing table", "the orders table is absent or empty",
                          "provide orders.csv or orders.parquet with at least one row")
    date_format = options.date_format if options is not None else None
    reading = []
    for name, df in raw.items():
        table = TABLES[name]
        source = (sources or {}).get(name)
        formats: dict[str, str] = {}
        out = _parse_table(chk, table, df, source.decimal if source else ".", date_format,
                           formats, (column_formats or {}).get(name))
        line = source.describe() if source else name
        if formats:
            line += "; dates: " + ", ".join(f"{c} {f}" for c, f in formats.items())
        reading.append(line)
        codes: dict[str, np.ndarray] = {}  # column -> value codes, shared by the checks
        _check_key(chk, table, out, codes)
        if name == "orders":
            _check_orders(chk, out, now, codes)
        if name == "complaints" and OPENED_AT in out and RESOLVED_AT in out:
            early = out[RESOLVED_AT].notna() & (out[RESOLVED_AT] < out[OPENED_AT])
            chk.problem(COMPLAINTS.name, RESOLVED_AT, "resolved before opened", out, early,
                        "resolved_at is before opened_at",
                        "check resolved_at and opened_at of these complaints", show=[OPENED_AT])
        _check_future(chk, table, out, now)
        parsed[name] = out
    _check_orphans(chk, parsed)
    report = ValidationReport(chk.problems, chk.repairs, parsed, context=context,
                              reading=reading)
    if report.ok and "orders" in parsed:
        report.dataset = Dataset(**parsed, repairs=dict(chk.repairs))
    for what, n in chk.repairs.items():
        log.info("repaired %d value(s): %s", n, what)
    return report


def validate_dataset(data: Dataset, now: pd.Timestamp | None = None) -> ValidationReport:
    """Validate an in-memory :class:`Dataset` (e.g. generated sample data) like files are."""
    return validate_tables(data.tables(), now=now, context="dataset")
