"""What the monitor reads of the snapshot store (:mod:`forecasting.pipelines.store`, which
owns the layout and writes it) and the monitor report it leaves there. Layout::

    <root>/                       FORECASTING_SNAPSHOT_ROOT (default <models>/snapshots)
      CURRENT                     names the current snapshot
      <snapshot_id>/              YYYYmmddTHHMMSSZ-asof-YYYY-MM-DD: churn.parquet, meta.json, ...
      history/scores/<snapshot_id>.parquet
          customer_id, as_of, churn_probability, risk_band, model_version, snapshot_id
      history/forecasts/<snapshot_id>.parquet
          unique_id, ds, yhat, yhat_lo_80, yhat_hi_80, yhat_lo_95, yhat_hi_95, history,
          model_version, as_of, snapshot_id
      monitor/latest.json         written by ``forecasting monitor`` (the API's gauges)

The histories outlive the pruned snapshot folders, so the monitor reads them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from forecasting import settings
from forecasting.errors import ForecastingError
from forecasting.pipelines import store as snapshot_store

SNAPSHOT_ID = snapshot_store.ID_PATTERN
SCORES = Path(snapshot_store.HISTORY) / "scores"
FORECASTS = Path(snapshot_store.HISTORY) / "forecasts"
MONITOR = "monitor"
LATEST = "latest.json"


def root() -> Path:
    """The snapshot store's folder (``FORECASTING_SNAPSHOT_ROOT``)."""
    return settings.current().snapshot_root


def latest_report_path(store: Path | None = None) -> Path:
    """Where ``forecasting monitor`` leaves its latest figures for the API's /metrics."""
    return (store or root()) / MONITOR / LATEST


def snapshot_id(created: pd.Timestamp, as_of) -> str:
    """``YYYYmmddTHHMMSSZ-asof-YYYY-MM-DD`` (``created`` in UTC)."""
    created = pd.Timestamp(created)
    return snapshot_store.snapshot_id(as_of, created if created.tzinfo else created.tz_localize("UTC"))


@dataclass(frozen=True)
class Refresh:
    """One refresh as the histories recorded it."""

    snapshot_id: str
    as_of: pd.Timestamp
    scores: Path | None
    forecasts: Path | None

    def meta(self, store: Path) -> dict:
        """The snapshot's meta.json when its folder is still kept, else {}."""
        path = store / self.snapshot_id / "meta.json"
        return json.loads(path.read_text()) if path.exists() else {}


def refreshes(store: Path | None = None) -> list[Refresh]:
    """Every refresh with a score or forecast history file, oldest first (by as-of, then
    by the time it was written)."""
    store = store or root()
    found: dict[str, dict[str, Path]] = {}
    for kind, folder in (("scores", SCORES), ("forecasts", FORECASTS)):
        for path in sorted((store / folder).glob("*.parquet")):
            if SNAPSHOT_ID.match(path.stem):
                found.setdefault(path.stem, {})[kind] = path
    out = [Refresh(sid, snapshot_store.parse_id(sid)[1], p.get("scores"),
                   p.get("forecasts")) for sid, p in found.items()]
    return sorted(out, key=lambda r: (r.as_of, r.snapshot_id))


def read_scores(ref: Refresh) -> pd.DataFrame:
    if ref.scores is None:
        raise ForecastingError(f"refresh {ref.snapshot_id} has no score history")
    df = pd.read_parquet(ref.scores)
    missing = {"customer_id", "churn_probability", "model_version"} - set(df.columns)
    if missing:
        raise ForecastingError(
            f"{ref.scores} lacks column(s) {sorted(missing)}: not a score history file "
            f"written by 'forecasting refresh'")
    df["customer_id"] = df["customer_id"].astype(str)
    return df


def read_forecasts(ref: Refresh) -> pd.DataFrame | None:
    if ref.forecasts is None:
        return None
    df = pd.read_parquet(ref.forecasts)
    df["unique_id"] = df["unique_id"].astype(str)
    df["ds"] = pd.to_datetime(df["ds"])
    return df


def read_gauges(path: Path | None = None) -> tuple[dict[str, float], str | None]:
    """(gauges, snapshot id) of the latest monitor report, ({}, None) when there is none or
    it cannot be read (the API then simply publishes nothing)."""
    path = path or latest_report_path()
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}, None
    gauges = {str(k): float(v) for k, v in (report.get("gauges") or {}).items()
              if isinstance(v, (int, float))}
    return gauges, report.get("latest_snapshot_id")
