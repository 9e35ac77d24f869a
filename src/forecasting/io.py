"""Reading and writing tables: the only module that touches data files.

A data set is a folder with one file per table, named after it: ``orders.csv``,
``orders.parquet`` or ``orders.xlsx`` (also ``.csv.gz``, ``.tsv``, ``.pq``). CSV files and
workbooks are read with every column as text, so that ids keep their exact spelling (``"00123"``
stays ``"00123"``); validation (:mod:`forecasting.validate`) then parses dates and numbers and
reports what does not parse.

Files are read the way CRM and ERP systems export them. :class:`ReadOptions` says how; what it
leaves open is detected per file and said in :class:`SourceInfo` (and so in the validate
summary):

* encoding: a byte-order mark (UTF-8, UTF-16), else UTF-8 when the bytes are valid UTF-8, else
  GB18030 (Excel on a Chinese Windows, GBK included) or Windows-1252 (Excel on a Western one),
  whichever ``charset_normalizer`` finds coherent; anything else asks for ``--encoding``;
* delimiter: ``,`` ``;`` tab or ``|``, the one that splits the first lines into the same number
  of fields (more than one);
* decimal separator: ``,`` when the number columns of the contract (or extra all-number
  columns) hold decimal commas and no dot except as thousands separators (``1.234,56``);
  ``1,234``-style values only (a comma then three digits) are ambiguous and need ``--decimal``;
* column names: ``--columns FILE`` (TOML, one table per contract table) maps the export's names
  to the contract's, e.g. ``[orders]`` then ``"订单号" = "order_id"``.

Dates (one format per column) are detected in :mod:`forecasting.dates` during validation.

Example:
    >>> import tempfile, pandas as pd
    >>> d = tempfile.mkdtemp()
    >>> _ = write_table(pd.DataFrame({"customer_id": ["007"]}), f"{d}/customers.csv")
    >>> read_table(f"{d}/customers.csv")["customer_id"].tolist()
    ['007']
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import json
import logging
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa

from forecasting.errors import ForecastingError
from forecasting.schema import TABLES
import gzip
import pyarrow.compute as pc
import pyarrow.parquet as pq

log = logging.getLogger(__name__)

_CSV = (".csv", ".csv.gz", ".tsv")
_PARQUET = (".parquet", ".pq")
_EXCEL = (".xlsx", ".xlsm")
_JSON = (".json",)
_TABLE_FILES = (*_CSV, *_PARQUET, *_EXCEL)

DELIMITERS = (",", ";", "\t", "|")
DECIMALS = (".", ",")
DATE_FORMATS = ("iso", "dayfirst", "monthfirst")
# with a decimal comma, a dot is read only as a thousands separator in this layout: 1.234,56
DOT_THOUSANDS = r"^\s*[+-]?\d{1,3}(\.\d{3})+(,\d+)?\s*$"
_SAMPLE_BYTES = 1 << 16
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))
_FALLBACK_ENCODINGS = ("gb18030", "cp1252")  # Excel "CSV" on Chinese / Western Windows


@dataclass(frozen=True)
class ReadOptions:
    """How the files of a data set are written; ``None`` means "detect it per file/column".

    ``encoding`` a Python codec name (``utf-8``, ``gb18030``, ...); ``sep`` one character;
    ``decimal`` ``.`` or ``,``; ``date_format`` ``iso``, ``dayfirst``, ``monthfirst`` or a
    strptime pattern (``%d.%m.%Y``); ``columns`` maps, per contract table, the file's column
    names to the contract's (``{"orders": {"订单号": "order_id"}}``).
    """

    encoding: str | None = None
    sep: str | None = None
    decimal: str | None = None
    date_format: str | None = None
    columns: dict[str, dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.encoding is not None:
            try:
                codecs.lookup(self.encoding)
            except LookupError as exc:
                raise ForecastingError(
                    f"--encoding {self.encoding!r}: unknown encoding; use e.g. utf-8, "
                    f"utf-8-sig, gb18030, gbk, cp1252, latin-1") from exc
        if self.sep is not None and len(self.sep) != 1:
            raise ForecastingError(f"--sep {self.sep!r}: give one character, e.g. ',' ';' "
                                   f"'|' or 'tab'")
        if self.decimal is not None and self.decimal not in DECIMALS:
            raise ForecastingError(f"--decimal {self.decimal!r}: use '.' or ','")
        if self.date_format is not None and self.date_format not in DATE_FORMATS \
                and "%" not in self.date_format:
            raise ForecastingError(
                f"--date-format {self.date_format!r}: use iso, dayfirst, monthfirst or a "
                f"strptime pattern such as %d.%m.%Y or '%m/%d/%Y %H:%M'")
        unknown = sorted(set(self.columns) - set(TABLES))
        if unknown:
            raise ForecastingError(
                f"column map: {', '.join(map(repr, unknown))} is not a table of the data "
                f"contract; use [{'], ['.join(TABLES)}]")

    @classmethod
    def from_strings(cls, encoding: str | None = None, sep: str | None = None,
                     decimal: str | None = None, date_format: str | None = None,
                     columns: str | Path | None = None) -> ReadOptions:
        """Options as typed on a command line: ``sep`` may be ``tab``; ``columns`` a TOML file."""
        if sep is not None and sep.lower() in ("tab", "\\t"):
            sep = "\t"
        return cls(encoding=encoding, sep=sep, decimal=decimal, date_format=date_format,
                   columns=load_column_map(columns) if columns else {})


def load_column_map(path: str | Path) -> dict[str, dict[str, str]]:
    """A column-name map from TOML: one table per contract table, ``"theirs" = "ours"``."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise ForecastingError(f"--columns {path}: file not found") from exc
    encoding = detect_encoding(raw[:_SAMPLE_BYTES], str(path))  # saved by Notepad on GBK?
    try:
        doc = tomllib.loads(raw.decode(encoding).lstrip("\ufeff"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ForecastingError(
            f"--columns {path}: not a TOML file ({exc}); write e.g.\n[orders]\n"
            f"\"订单号\" = \"order_id\"") from exc
    out: dict[str, dict[str, str]] = {}
    for table, mapping in doc.items():
        if not isinstance(mapping, dict) or not all(
                isinstance(v, str) for v in mapping.values()):
            raise ForecastingError(
                f"--columns {path}: [{table}] must map column names to contract names, e.g. "
                f"\"订单号\" = \"order_id\"")
        targets = pd.Series(list(mapping.values()))
        twice = sorted(set(targets[targets.duplicated()]))
        if twice:
            raise ForecastingError(f"--columns {path}: [{table}] maps two columns to "
                                   f"{', '.join(map(repr, twice))}; keep one")
        out[table] = {str(k).strip(): v.strip() for k, v in mapping.items()}
    return out


@dataclass
class SourceInfo:
    """How one table file was read: what was given and what was detected."""

    file: str
    kind: str  # csv | parquet | xlsx | json
    encoding: str | None = None
    sep: str | None = None
    decimal: str = "."
    detected: tuple[str, ...] = ()  # which of encoding, sep, decimal were detected
    renamed: dict[str, str] = field(default_factory=dict)
    comma_attributes: tuple[str, ...] = ()  # extra columns whose decimal commas became dots

    def describe(self) -> str:
        """``orders.csv: encoding gb18030 (detected), delimiter ';' (detected), ...``"""
        def how(name: str) -> str:
            return "detected" if name in self.detected else "given"

        parts = []
        if self.encoding is not None:
            parts.append(f"encoding {self.encoding} ({how('encoding')})")
        if self.sep is not None:
            parts.append(f"delimiter {self.sep!r} ({how('sep')})")
        if self.kind != "parquet":
            parts.append(f"decimal {self.decimal!r} ({how('decimal')})" + (
                f", also read in {', '.join(self.comma_attributes)}"
                if self.comma_attributes else ""))
        if self.renamed:
            parts.append("columns renamed: " + ", ".join(
                f"{k} -> {v}" for k, v in self.renamed.items()))
        return f"{self.file} ({self.kind}): " + (", ".join(parts) or "as stored")


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for ext in (*_TABLE_FILES, *_JSON):
        if name.endswith(ext):
            return ext
    return path.suffix.lower()


# --- detection -----------------------------------------------------------------------------
def _head(path: Path, size: int = _SAMPLE_BYTES) -> bytes:
    """The first ``size`` bytes of the (uncompressed) file; all of it with ``size=-1``."""
    if path.name.lower().endswith(".gz"):
        with gzip.open(path, "rb") as f:
            return f.read(size)
    with open(path, "rb") as f:
        return f.read(size)


def detect_encoding(sample: bytes, name: str = "file") -> str:
    """The encoding of a CSV file from its first bytes (see the module docstring)."""
    for bom, enc in _BOMS:
        if sample.startswith(bom):
            return enc
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(sample) - 3 and len(sample) == _SAMPLE_BYTES:
            return "utf-8"  # a character cut by the end of the sample
    from charset_normalizer import from_bytes

    best = from_bytes(sample, cp_isolation=list(_FALLBACK_ENCODINGS)).best()
    if best is None:
        raise ForecastingError(
            f"{name}: the text is not UTF-8, GB18030/GBK or Windows-1252; give its encoding "
            f"with --encoding (e.g. --encoding big5, --encoding shift_jis)")
    return best.encoding


def detect_delimiter(text: str, default: str = ",") -> str:
    """The delimiter that splits the first lines into equal numbers of fields (more than one)."""
    lines = text.splitlines()[:50]
    if len(lines) > 1:
        lines = lines[:-1]  # the last line of a sample may be cut
    best, best_fields = default, 1
    for sep in DELIMITERS:
        counts = {len(row) for row in csv.reader(lines, delimiter=sep) if row}
        if len(counts) == 1 and (n := counts.pop()) > best_fields:
            best, best_fields = sep, n
    return best


def _is_text(arr) -> bool:
    return pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)


def _comma_attributes(table: pa.Table, name: str) -> list[int]:
    """Positions of extra (non-contract) text columns holding only numbers with decimal
    commas (``5000,50``): attributes that are numbers when the decimal separator is ``,``."""
    contract = set(TABLES[name].column_names()) if name in TABLES else set()
    out = []
    for i, c in enumerate(table.column_names):
        arr = table.column(i)
        if c in contract or not _is_text(arr) or not pc.any(pc.match_substring(arr, ",")).as_py():
            continue
        if pc.all(pc.match_substring_regex(arr, r"^\s*[+-]?\d+(,\d+)?\s*$")).as_py():
            out.append(i)
    return out


def _detect_decimal(table: pa.Table, numbers: list[str], name: str,
                    comma_attributes: bool = False) -> str | None:
    """``,`` when the number columns (or extra all-number columns) hold decimal commas and the
    number columns no dot other than thousands separators (``1.234,56``); ``None`` when
    unclear."""
    text = [table.column(i) for i, c in enumerate(table.column_names)
            if c in numbers and _is_text(table.column(i))]
    if not comma_attributes and not any(pc.any(pc.match_substring(a, ",")).as_py()
                                        for a in text):
        return None  # the usual case: one pass over each number column
    for a in text:  # dots beside commas: only as thousands separators (1.234,56)
        dotted = pc.match_substring(a, ".")
        if pc.any(dotted).as_py() and not pc.all(pc.or_(
                pc.invert(dotted), pc.match_substring_regex(a, DOT_THOUSANDS))).as_py():
            return None  # '.' stays the decimal; the comma values are reported
    pattern = r"^\s*[+-]?\d{1,3}(,\d{3})+\s*$"
    comma = sum(pc.sum(pc.match_substring(a, ",")).as_py() or 0 for a in text)
    thousands_like = sum(pc.sum(pc.match_substring_regex(a, pattern)).as_py() or 0
                         for a in text)
    if thousands_like == comma and comma:
        raise ForecastingError(
            f"{name}: numbers such as '1,234' could mean 1.234 (decimal comma) or 1234 "
            f"(thousands separator); say which with --decimal , or --decimal .")
    return ","


# --- reading -------------------------------------------------------------------------------
def _read_csv(path: Path, ext: str, options: ReadOptions, info: SourceInfo) -> pa.Table:
    # the Arrow CSV reader loads only when a CSV is read
    import pyarrow.csv as pv

    detected = []
    sample = _head(path)
    encoding = options.encoding
    if encoding is None:
        encoding = detect_encoding(sample, path.name)
        detected.append("encoding")
    try:
        text = sample.decode(encoding, errors="ignore" if len(sample) == _SAMPLE_BYTES
                             else "strict")
    except UnicodeDecodeError as exc:
        raise ForecastingError(
            f"{path}: not valid {encoding} (byte {exc.start}); give the file's encoding "
            f"with --encoding (utf-8, gb18030, cp1252, ...)") from exc
    text = text.lstrip("\ufeff")
    sep = options.sep
    if sep is None:
        sep = detect_delimiter(text, "\t" if ext == ".tsv" else ",")
        detected.append("sep")
    header = next(csv.reader(text.splitlines()[:1], delimiter=sep), [])

    def read(encoding: str) -> pa.Table:
        return pv.read_csv(
            path,
            read_options=pv.ReadOptions(
                encoding="utf8" if encoding in ("utf-8", "utf-8-sig", "utf8") else encoding,
                block_size=1 << 24),
            parse_options=pv.ParseOptions(delimiter=sep, newlines_in_values=True),
            convert_options=pv.ConvertOptions(
                column_types={h: pa.string() for h in header}, null_values=[""],
                strings_can_be_null=True, quoted_strings_can_be_null=True))

    try:
        try:
            table = read(encoding)
        except pa.ArrowInvalid as exc:
            if "UTF8" not in str(exc) or "encoding" not in detected:
                raise
            # valid UTF-8 at the start, not further on: detect again where it breaks
            encoding = detect_encoding(_around_first_non_utf8(path), path.name)
            log.info("%s: not UTF-8 after its first %d bytes; reading it as %s", path.name,
                     _SAMPLE_BYTES, encoding)
            table = read(encoding)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        msg = str(exc)
        likely = detect_delimiter(text, sep)
        if likely != sep:
            hint = (f"the delimiter looks like {likely!r}, not {sep!r}: give --sep {likely!r} "
                    f"(or leave --sep out to detect it)")
        elif "Expected" in msg and "columns" in msg:
            hint = (f"a line has another number of fields than the header (delimiter "
                    f"{sep!r}{', detected' if 'sep' in detected else ''}); is the delimiter "
                    f"right (--sep)? values that contain it must be quoted (a decimal comma in "
                    f"a comma-separated file?)")
        elif "UTF8" in msg or isinstance(exc, UnicodeDecodeError):
            hint = (f"the text is not valid {encoding}"
                    f"{' (detected)' if 'encoding' in detected else ''}; give its encoding "
                    f"with --encoding (gb18030, cp1252, ...)")
        else:
            hint = "check the file is a CSV export"
        raise ForecastingError(f"{path}: cannot be read as CSV: {hint}. ({msg[:300]})") from exc
    info.encoding, info.sep, info.detected = encoding, sep, tuple(detected)
    return table


def _around_first_non_utf8(path: Path) -> bytes:
    """A sample of the file from shortly before its first byte that is not UTF-8."""
    data = _head(path, -1)
    try:
        data.decode("utf-8")
        return data[:_SAMPLE_BYTES]
    except UnicodeDecodeError as exc:
        start = max(0, data.rfind(b"\n", 0, exc.start) + 1)
        return data[start:start + _SAMPLE_BYTES]


def _cell_text(v) -> str | None:
    if v is None or v == "":
        return None
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    return str(v)


def _read_excel(path: Path) -> pa.Table:
    """The first sheet of a workbook, every cell as text (numbers as Excel shows them)."""
    # loaded only for workbooks
    from python_calamine import CalamineWorkbook

    try:
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    except Exception as exc:  # calamine raises its own types for corrupt or locked files
        raise ForecastingError(f"{path}: cannot be read as an Excel workbook: {exc}") from exc
    if not rows:
        raise ForecastingError(f"{path}: the first sheet is empty; put the table (with a "
                               f"header row) on the first sheet")
    header = [str(h).strip() if h not in (None, "") else f"column_{i + 1}"
              for i, h in enumerate(rows[0])]
    body = [r for r in rows[1:] if any(v not in (None, "") for v in r)]
    columns = [pa.array([_cell_text(r[i]) if i < len(r) else None for r in body],
                        type=pa.string()) for i in range(len(header))]
    return pa.Table.from_arrays(columns, names=header)  # a repeated name is reported later


def _rename(table: pa.Table, mapping: dict[str, str], path: Path,
            info: SourceInfo) -> pa.Table:
    if not mapping:
        return table
    names = [str(c).strip() for c in table.column_names]
    absent = [k for k in mapping if k not in names]
    if absent:
        reversed_ = all(v in names for v in mapping.values())
        raise ForecastingError(
            f"{path}: --columns maps {', '.join(map(repr, absent))} but the file has no such "
            f"column (columns present: {', '.join(names)}); " + (
                "the map looks reversed: write the file's name first, then the contract's "
                "(\"订单号\" = \"order_id\")" if reversed_ else
                "correct the names in the columns file"))
    info.renamed = {k: v for k, v in mapping.items()}
    return table.rename_columns([mapping.get(n, n) for n in names])


def read_source(path: str | Path, options: ReadOptions | None = None,
                table: str | None = None) -> tuple[pd.DataFrame, SourceInfo]:
    """One table file and how it was read. ``table`` (a contract table name) selects the
    column map of ``options`` and the number columns used to detect a decimal comma."""
    options = options or ReadOptions()
    path = Path(path)
    if not path.exists():
        raise ForecastingError(f"{path}: file not found")
    ext = _suffix(path)
    info = SourceInfo(file=path.name, kind=ext.lstrip(".").split(".")[0])
    if ext in _CSV:
        info.kind = "csv"
        data = _read_csv(path, ext, options, info)
    elif ext in _EXCEL:
        info.kind = "xlsx"
        data = _read_excel(path)
    elif ext in _PARQUET:
        info.kind = "parquet"
        try:
            data = pq.read_table(path)
        except (pa.ArrowException, OSError) as exc:
            raise ForecastingError(f"{path}: cannot be read as parquet: {exc}") from exc
    elif ext in _JSON:
        try:
            return pd.read_json(path, orient="records", dtype=False), info
        except ValueError as exc:
            raise ForecastingError(f"{path}: cannot be read as json: {exc}") from exc
    else:
        raise ForecastingError(
            f"{path}: unknown file type {ext!r}; use .csv, .csv.gz, .tsv, .xlsx, .parquet or "
            f".json")
    if table is not None:
        data = _rename(data, options.columns.get(table, {}), path, info)
        attributes = _comma_attributes(data, table)
        if options.decimal is not None:
            info.decimal = options.decimal
        elif info.kind != "parquet" and table in TABLES:
            numbers = [c.name for c in TABLES[table].columns
                       if c.kind in ("number", "int") and c.name in data.column_names]
            info.decimal = _detect_decimal(data, numbers, str(path), bool(attributes)) or "."
            info.detected = (*info.detected, "decimal")
        if info.decimal == "," and attributes:  # contract numbers: parsed in validation
            for i in attributes:
                data = data.set_column(i, data.column_names[i],
                                       pc.replace_substring(data.column(i), ",", "."))
            info.comma_attributes = tuple(data.column_names[i] for i in attributes)
    return data.to_pandas(), info


def read_table(path: str | Path, options: ReadOptions | None = None,
               table: str | None = None) -> pd.DataFrame:
    """One table from a CSV, Excel (first sheet), Parquet or JSON (records) file, by extension.

    CSV and Excel columns are all text (empty cells are missing); Parquet keeps its stored
    types. See :func:`read_source` for ``options`` and ``table``.
    """
    return read_source(path, options, table)[0]


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
            f"{folder}: not a folder; a data set is a folder with orders.csv, orders.xlsx or "
            f"orders.parquet (and optionally customers, complaints, surveys, inventory)")
    found: dict[str, list[Path]] = {}
    for f in sorted(folder.iterdir()):
        ext = _suffix(f)
        if f.is_file() and ext in _TABLE_FILES and not f.name.startswith("~$"):
            name = f.name[: -len(ext)]
            if name in TABLES:
                found.setdefault(name, []).append(f)
    clashes = {n: p for n, p in found.items() if len(p) > 1}
    if clashes:
        detail = "; ".join(f"{n}: {', '.join(x.name for x in p)}" for n, p in clashes.items())
        raise ForecastingError(
            f"{folder}: more than one file for the same table ({detail}); keep one per table")
    return {n: p[0] for n, p in found.items()}


def read_sources(folder: str | Path, options: ReadOptions | None = None,
                 ) -> tuple[dict[str, pd.DataFrame], dict[str, SourceInfo]]:
    """Every contract table in ``folder``, unvalidated, by name, and how each was read."""
    files = find_tables(folder)
    if "orders" not in files:
        raise ForecastingError(
            f"{folder}: no orders table; add orders.csv, orders.xlsx or orders.parquet with "
            f"columns {', '.join(TABLES['orders'].required_columns())}")
    absent = sorted(set((options or ReadOptions()).columns) - set(files))
    if absent:
        log.warning("--columns maps table(s) %s that %s does not have", ", ".join(absent), folder)
    tables, sources = {}, {}
    for name, path in files.items():
        tables[name], sources[name] = read_source(path, options, table=name)
        log.debug("read %s: %d rows from %s", name, len(tables[name]), path)
    return tables, sources


def read_raw_tables(folder: str | Path, options: ReadOptions | None = None,
                    ) -> dict[str, pd.DataFrame]:
    """Every contract table in ``folder``, unvalidated, by name."""
    return read_sources(folder, options)[0]


def read_dataset(folder: str | Path, now: pd.Timestamp | None = None,
                 options: ReadOptions | None = None):
    """Read and validate a data set folder.

    Returns a :class:`forecasting.dataset.Dataset`; raises
    :class:`forecasting.errors.DataError` listing every broken rule. ``now`` is the instant
    after which dates count as "in the future" (default: the current time); ``options`` say
    how the files are written (default: detected, see :class:`ReadOptions`).
    """
    # import cycle: validate imports io at module level
    from forecasting.validate import validate_tables

    tables, sources = read_sources(folder, options)
    report = validate_tables(tables, now=now, context=str(folder), options=options,
                             sources=sources)
    report.raise_if_failed()
    for line in report.reading:  # the tidy kind at DEBUG: six lines per command otherwise
        log.log(logging.DEBUG if _PLAIN_READ.match(line) else logging.INFO, "read %s", line)
    return report.dataset


# what every tidy file says: UTF-8, commas, dots, ISO dates, all detected
_PLAIN_READ = re.compile(
    r"^\S+\.(csv|parquet) \((csv|parquet)\)(: encoding utf-8 \(detected\), delimiter ',' "
    r"\(detected\), decimal '\.' \(detected\))?(; dates: (\w+ iso \(detected\)(, )?)+)?$")


def read_series(path: str | Path) -> pd.DataFrame:
    """A long series table (``unique_id``, ``ds``, ``y``) as stored; validated by the caller."""
    return read_table(path)
