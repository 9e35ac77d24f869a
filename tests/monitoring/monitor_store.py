"""Helpers writing a snapshot store in the layout of ``forecasting refresh`` (see
:mod:`forecasting.monitoring.store`): ``build_snapshot`` writes the snapshot folder and
:func:`record_refresh` the score and forecast history beside it. A refresh as of a past date
is built from the data as they were then (tables cut at that date), as a refresh run on that
day would have been. (Replace by the refresh command's own writer once it is merged.)"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from forecasting.monitoring import store as S

AS_OF = "2024-06-30"
DATE_COLUMNS = {"orders": "order_date", "complaints": "opened_at", "surveys": "surveyed_at",
                "customers": "created_at"}


def cut_at(src_tables: dict[str, pd.DataFrame], as_of, folder: Path) -> Path:
    """The tables as they were at the end of ``as_of``: rows after it dropped, later dates
    in the remaining rows emptied."""
    from forecasting.io import write_table

    end = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in src_tables.items():
        t = table.copy()
        key = DATE_COLUMNS.get(name)
        if key in t:
            t = t[pd.to_datetime(t[key]) < end]
        for col in t.columns:
            if pd.api.types.is_datetime64_any_dtype(t[col]):
                t[col] = t[col].where(t[col] < end)
        write_table(t, folder / f"{name}.parquet")
    return folder


def record_refresh(data_dir: Path, as_of, root: Path, created=None) -> str:
    """A snapshot as of ``as_of`` in ``root/<snapshot_id>`` plus its score and forecast
    history files, made current; returns the snapshot id."""
    from forecasting.pipelines.snapshot import build_snapshot

    created = pd.Timestamp(created or pd.Timestamp.now(tz="UTC")).tz_localize(None)
    sid = S.snapshot_id(created, as_of)
    meta = build_snapshot(data_dir, as_of=as_of, out_dir=root / sid)
    churn = pd.read_parquet(root / sid / "churn.parquet")
    scores = churn[["customer_id", "as_of", "churn_probability", "risk_band",
                    "model_version"]].assign(snapshot_id=sid)
    (root / S.SCORES).mkdir(parents=True, exist_ok=True)
    scores.to_parquet(root / S.SCORES / f"{sid}.parquet", index=False)
    fc_path = root / sid / "forecasts.parquet"
    if fc_path.exists():
        fc = pd.read_parquet(fc_path)
        keep = [c for c in ("unique_id", "ds", "yhat", "yhat_lo_80", "yhat_hi_80",
                            "yhat_lo_95", "yhat_hi_95", "history") if c in fc]
        fc = fc[keep].assign(model_version=meta.get("demand_model_version"),
                             as_of=meta["as_of"], snapshot_id=sid)
        (root / S.FORECASTS).mkdir(parents=True, exist_ok=True)
        fc.to_parquet(root / S.FORECASTS / f"{sid}.parquet", index=False)
    (root / "CURRENT").write_text(sid + "\n")
    return sid
