"""The snapshot store: versioned snapshots, the one being served, and a compact history.

Layout (a contract: the API, ``forecasting monitor`` and the web page read it)::

    <root>/                         FORECASTING_SNAPSHOT_ROOT, default <models>/snapshots
      CURRENT                       the snapshot_id the API serves (replaced atomically)
      <snapshot_id>/                one complete, checked snapshot (forecasting.pipelines.snapshot)
      history/scores/<snapshot_id>.parquet
                                    customer_id, as_of, churn_probability, risk_band,
                                    model_version, snapshot_id (kept after the snapshot is pruned)
      history/forecasts/<snapshot_id>.parquet
                                    unique_id, ds, yhat, yhat_lo_*/yhat_hi_*, history,
                                    model_version, as_of, snapshot_id
      .refresh.lock                 held (fcntl) by the running refresh; names its pid
      .partial-<snapshot_id>/       a snapshot being written; removed by the next refresh when
                                    its writer died

``snapshot_id`` is ``YYYYmmddTHHMMSSZ-asof-YYYY-MM-DD`` (UTC creation time, then the as-of
date), so ids sort by creation. A snapshot is written aside (``.partial-…``), checked (every
table reads back with the row count ``meta.json`` recorded), renamed into place, its history
written, and only then named in ``CURRENT``: a reader of ``CURRENT`` never sees half a
snapshot, and a refresh killed at any point leaves the previous one current.

Example:
    >>> snapshot_id("2024-06-30", now=pd.Timestamp("2024-07-01 03:00:05", tz="UTC"))
    '20240701T030005Z-asof-2024-06-30'
    >>> parse_id('20240701T030005Z-asof-2024-06-30')[1]
    Timestamp('2024-06-30 00:00:00')
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from forecasting.errors import ForecastingError
from forecasting.io import write_table

log = logging.getLogger(__name__)

CURRENT = "CURRENT"
LOCK = ".refresh.lock"
PARTIAL = ".partial-"
HISTORY = "history"
SCORE_COLUMNS = ["customer_id", "as_of", "churn_probability", "risk_band", "model_version",
                 "snapshot_id"]
ID_PATTERN = re.compile(r"^(\d{8}T\d{6}Z)-asof-(\d{4}-\d{2}-\d{2})$")
REQUIRED_TABLES = ("customers.parquet", "kpis.parquet")


def snapshot_id(as_of, now: pd.Timestamp | None = None) -> str:
    """A new id: UTC creation time, then the as-of date."""
    now = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now).tz_convert("UTC")
    return f"{now:%Y%m%dT%H%M%SZ}-asof-{pd.Timestamp(as_of):%Y-%m-%d}"


def parse_id(sid: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """(created, as_of) of a snapshot id; ForecastingError when it is not one."""
    m = ID_PATTERN.match(sid)
    if not m:
        raise ForecastingError(f"{sid!r} is not a snapshot id (YYYYmmddTHHMMSSZ-asof-YYYY-MM-DD)")
    return pd.Timestamp(m.group(1)), pd.Timestamp(m.group(2))


@dataclass(frozen=True)
class SnapshotInfo:
    snapshot_id: str
    path: Path
    as_of: str
    created: pd.Timestamp
    current: bool


# --- reading -----------------------------------------------------------------------------------
def current_id(root: str | Path) -> str | None:
    """The snapshot id named in ``<root>/CURRENT``, or None when there is none yet."""
    try:
        sid = (Path(root) / CURRENT).read_text().strip()
    except FileNotFoundError:
        return None
    parse_id(sid)
    return sid


def current_snapshot_dir(root: str | Path) -> Path | None:
    """The folder of the current snapshot (``<root>/<CURRENT>``), or None when there is none."""
    sid = current_id(root)
    return None if sid is None else Path(root) / sid


def list_snapshots(root: str | Path) -> list[SnapshotInfo]:
    """The complete snapshots in the store, oldest first (partial folders are not listed)."""
    root = Path(root)
    if not root.is_dir():
        return []
    try:
        cur = current_id(root)
    except ForecastingError:
        cur = None
    out = []
    for p in sorted(root.iterdir()):
        m = ID_PATTERN.match(p.name)
        if m and p.is_dir() and (p / "meta.json").exists():
            created, as_of = parse_id(p.name)
            out.append(SnapshotInfo(p.name, p, f"{as_of:%Y-%m-%d}", created, p.name == cur))
    return out


def read_meta(folder: str | Path) -> dict:
    path = Path(folder) / "meta.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ForecastingError(f"no meta.json in {folder}: not a complete snapshot") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ForecastingError(f"{path} is not valid JSON ({exc}): the snapshot is damaged; "
                               f"run 'forecasting refresh DATA_DIR' to write a new one") from None


def _read_history(folder: Path, columns=None, filters=None) -> pd.DataFrame:
    """Every history file of ``folder``; a file that does not read (damaged) is skipped with
    a warning, so one bad refresh does not hide the others."""
    files = sorted(f for f in folder.glob("*.parquet") if not f.name.startswith(".")) \
        if folder.is_dir() else []
    frames = []
    for f in files:
        try:
            frames.append(pd.read_parquet(f, columns=columns, filters=filters))
        except Exception as exc:  # noqa: BLE001 - pyarrow raises many types for a bad file
            log.warning("history file %s does not read (%s); skipped", f, exc)
    if not frames:
        return pd.DataFrame(columns=columns or [])
    return pd.concat(frames, ignore_index=True)


def read_score_history(root: str | Path, customer_id: str | None = None) -> pd.DataFrame:
    """Every refresh's churn scores (columns :data:`SCORE_COLUMNS`), oldest first; one
    customer's when ``customer_id`` is given."""
    # one customer's rows are filtered while reading (the web page asks per customer)
    filters = None if customer_id is None else [("customer_id", "==", str(customer_id))]
    df = _read_history(Path(root) / HISTORY / "scores", filters=filters)
    if df.empty:
        return pd.DataFrame(columns=SCORE_COLUMNS)
    return df.sort_values(["snapshot_id", "customer_id"], kind="stable").reset_index(drop=True)


def read_forecast_history(root: str | Path) -> pd.DataFrame:
    """Every refresh's forecasts (unique_id, ds, yhat, intervals, history, model_version, as_of,
    snapshot_id), oldest first."""
    df = _read_history(Path(root) / HISTORY / "forecasts")
    if df.empty:
        return df
    return df.sort_values(["snapshot_id", "unique_id", "ds"], kind="stable").reset_index(drop=True)


# --- checking ------------------------------------------------------------------------------------
def check_snapshot(folder: str | Path) -> dict:
    """The snapshot's meta after checking that it is complete: meta.json reads and names its
    as-of date, the required tables exist, and every table reads back whole with the row count
    meta.json recorded. ForecastingError naming the file otherwise."""
    folder = Path(folder)
    meta = read_meta(folder)
    if not meta.get("as_of"):
        raise ForecastingError(f"{folder / 'meta.json'} names no as_of date: damaged snapshot")
    rows = meta.get("rows")
    if not isinstance(rows, dict):
        raise ForecastingError(f"{folder / 'meta.json'} has no table row counts: not written by "
                               f"this version's refresh; run 'forecasting refresh DATA_DIR'")
    for name in REQUIRED_TABLES:
        if name not in rows:
            raise ForecastingError(f"snapshot {folder} lacks {name}")
    for name, expected in rows.items():
        path = folder / name
        try:
            n = len(pd.read_parquet(path))
        except FileNotFoundError:
            raise ForecastingError(f"snapshot {folder}: {name} is missing") from None
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise ForecastingError(f"snapshot {folder}: {name} does not read back "
                                   f"({type(exc).__name__}: {str(exc)[:200]})") from None
        if n != expected:
            raise ForecastingError(f"snapshot {folder}: {name} has {n} rows, meta.json recorded "
                                   f"{expected}")
    return meta


# --- writing -------------------------------------------------------------------------------------
def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def begin(root: str | Path, sid: str) -> Path:
    """A fresh folder to write snapshot ``sid`` into, aside from the served ones."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    partial = root / f"{PARTIAL}{sid}"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    return partial


def set_current(root: str | Path, sid: str) -> None:
    """Name ``sid`` in CURRENT atomically (a temporary file, fsync, os.replace)."""
    root = Path(root)
    tmp = root / f".{CURRENT}.{os.getpid()}.tmp"
    with open(tmp, "w") as fh:
        fh.write(sid + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, root / CURRENT)
    _fsync_dir(root)


def write_history(root: str | Path, folder: str | Path, sid: str, meta: dict) -> None:
    """The compact score and forecast history of one snapshot (each file written aside and
    renamed, so a reader never sees half of one)."""
    root, folder = Path(root), Path(folder)
    as_of = meta["as_of"]
    parts = []
    if (folder / "churn.parquet").exists():
        s = pd.read_parquet(folder / "churn.parquet",
                            columns=["customer_id", "churn_probability", "risk_band",
                                     "model_version"])
        s.insert(1, "as_of", as_of)
        s["customer_id"] = s["customer_id"].astype(str)
        s["model_version"] = s["model_version"].astype(str)
        s["snapshot_id"] = sid
        parts.append(("scores", s[SCORE_COLUMNS]))
    if (folder / "forecasts.parquet").exists():
        f = pd.read_parquet(folder / "forecasts.parquet")
        keep = [c for c in f.columns if c in ("unique_id", "ds", "yhat", "history")
                or c.startswith(("yhat_lo_", "yhat_hi_"))]
        f = f[keep].copy()
        f["model_version"] = meta.get("demand_model_version")
        f["as_of"] = as_of
        f["snapshot_id"] = sid
        parts.append(("forecasts", f))
    for kind, table in parts:
        out = root / HISTORY / kind
        out.mkdir(parents=True, exist_ok=True)
        tmp = out / f".{sid}.tmp.parquet"
        write_table(table, tmp)
        os.replace(tmp, out / f"{sid}.parquet")


def commit(root: str | Path, partial: str | Path, sid: str) -> Path:
    """Check the snapshot written in ``partial``, move it into place as ``<root>/<sid>``, add
    its history and make it current. Raises ForecastingError (CURRENT untouched) when the
    check fails."""
    root, partial = Path(root), Path(partial)
    meta = check_snapshot(partial)
    final = root / sid
    if final.exists():
        raise ForecastingError(f"snapshot {sid} already exists in {root}")
    os.rename(partial, final)
    _fsync_dir(root)
    write_history(root, final, sid, meta)
    set_current(root, sid)
    return final


def prune(root: str | Path, keep: int) -> list[str]:
    """Remove the oldest complete snapshots beyond the newest ``keep`` (never the current
    one); the history of every snapshot stays. Returns the ids removed."""
    if keep < 1:
        raise ForecastingError(f"--keep must be at least 1 (the current snapshot), got {keep}")
    snaps = list_snapshots(root)
    removed = []
    for info in snaps[:-keep] if len(snaps) > keep else []:
        if info.current:
            continue
        shutil.rmtree(info.path, ignore_errors=True)
        removed.append(info.snapshot_id)
    if removed:
        log.info("removed %d old snapshot(s): %s", len(removed), ", ".join(removed))
    return removed


def clean_partials(root: str | Path) -> list[str]:
    """Remove what a refresh that died left behind (``.partial-*`` folders and temporary
    files); call it holding the refresh lock. Returns the names removed."""
    root = Path(root)
    if not root.is_dir():
        return []
    gone = []
    for p in root.iterdir():
        if p.name.startswith(PARTIAL) or (p.name.startswith(f".{CURRENT}.")
                                          and p.name.endswith(".tmp")):
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
            gone.append(p.name)
    for kind in ("scores", "forecasts"):
        folder = root / HISTORY / kind
        for p in folder.glob(".*.tmp.parquet") if folder.is_dir() else []:
            p.unlink(missing_ok=True)
            gone.append(f"{HISTORY}/{kind}/{p.name}")
    if gone:
        log.warning("removed what an interrupted refresh left behind: %s", ", ".join(gone))
    return gone


@contextlib.contextmanager
def refresh_lock(root: str | Path) -> Iterator[None]:
    """Hold the store's refresh lock (``fcntl.flock`` on ``<root>/.refresh.lock``) for the
    block. Another refresh holding it is a ForecastingError naming its pid; a lock file left
    by a refresh that died (the kernel released its lock) is taken over with a warning."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    path = root / LOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown"
            raise ForecastingError(
                f"another refresh is running on {root} ({holder}); wait for it to finish "
                f"(two refreshes never overlap), or stop that process if it hangs") from None
        stale = os.pread(fd, 200, 0).decode(errors="replace").strip()
        if stale:
            log.warning("the lock of a refresh that did not finish (%s) was left in %s; "
                        "taking it over", stale, path)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} since {pd.Timestamp.now(tz='UTC'):%Y-%m-%d %H:%M:%S} "
                      f"UTC".encode(), 0)
        os.fsync(fd)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
