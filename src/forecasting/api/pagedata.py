"""What the web page shows, without the HTTP: lists and detail views over a served snapshot.

:mod:`forecasting.api.page` turns these answers into JSON for the browser; the page calls the
API's own endpoints (``/demand/forecast``, ``/production/plan``, ``/customers/kpis``,
``/models/info``) where they fit, and these for what the API does not answer: customers ranked
by value at risk with filters, one customer's history, the product list with its demand
history, segment sizes, score history across refreshes and the monitoring report.

:class:`PageData` reads the snapshot folder of a :class:`forecasting.api.backend.Backend`
once (see :func:`page_data`, cached per snapshot) and answers from memory.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting import settings
from forecasting.monitoring.store import latest_report_path
from forecasting.pipelines import store
from forecasting.errors import ForecastingError
from forecasting.schema import CREATED_AT, CUSTOMER_ID, DS, PRODUCT_ID, UNIQUE_ID, Y

log = logging.getLogger(__name__)

#: query parameters of :meth:`PageData.customers` that are not customer attributes
LIST_PARAMS = frozenset({"segment", "risk_band", "q", "limit", "offset"})
#: an attribute with at most this many distinct values is offered as a filter
MAX_FILTER_VALUES = 40
HISTORY_PERIODS = 104  #: demand history periods sent to the chart
RISK_BANDS = ("high", "medium", "low")


class NotFound(ForecastingError):
    """An id the snapshot does not know (HTTP 404)."""


def _value(v):
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (np.floating, float)):
        return None if not np.isfinite(v) else round(float(v), 6)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, (pd.Timestamp, np.datetime64)):
        return pd.Timestamp(v).strftime("%Y-%m-%d")
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def _records(df: pd.DataFrame) -> list[dict]:
    return [{k: _value(v) for k, v in row.items()} for row in df.to_dict("records")]


def _texts(raw) -> list[str]:
    """Reason texts from a snapshot cell: a JSON list of strings or of {text: ...} (model
    reasons), or texts joined by "; " (the follow-up list's rule reasons)."""
    if raw is None or (isinstance(raw, float) and not np.isfinite(raw)):
        return []
    if isinstance(raw, str):
        items = json.loads(raw) if raw.lstrip().startswith("[") else raw.split("; ")
    else:
        items = list(raw)
    return [str(i.get("text") if isinstance(i, dict) else i) for i in items if i]


def _read(folder: Path, name: str) -> pd.DataFrame | None:
    f = folder / f"{name}.parquet"
    return pd.read_parquet(f) if f.exists() else None


# --- score history across refreshes and the monitor's report -------------------------------
def snapshot_root() -> Path:
    return settings.current().snapshot_root


def read_score_history(customer_id: str, root: Path | None = None) -> pd.DataFrame:
    """One row per refresh that scored ``customer_id`` (oldest first); empty when none
    (the store's history, :func:`forecasting.pipelines.store.read_score_history`)."""
    cols = ["as_of", "churn_probability", "risk_band", "model_version", "snapshot_id"]
    try:
        hist = store.read_score_history(root or snapshot_root(), customer_id)
    except Exception as exc:  # noqa: BLE001 - a damaged history file must not break the page
        log.warning("score history unreadable: %s", exc)
        return pd.DataFrame(columns=cols)
    out = hist.reindex(columns=cols)
    out["as_of"] = out["as_of"].astype(str)
    return out.sort_values("as_of", kind="stable").drop_duplicates("as_of", keep="last")


def monitor_report(root: Path | None = None) -> dict | None:
    """The latest report of ``forecasting monitor`` (in the snapshot store), or None."""
    path = latest_report_path(root or snapshot_root())
    if not path.exists():
        return None
    try:
        return {"file": path.name, "report": json.loads(path.read_text())}
    except (OSError, ValueError) as exc:
        return {"file": path.name, "error": f"unreadable report: {exc}"}


# --- the snapshot, as the page sees it -----------------------------------------------------
@dataclass
class PageData:
    """The page's view of one snapshot folder."""

    folder: Path
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        f = self.folder = Path(self.folder)
        self.meta = json.loads((f / "meta.json").read_text())
        seg = _read(f, "customers")
        seg[CUSTOMER_ID] = seg[CUSTOMER_ID].astype(str)
        attrs = _read(f, "customer_attributes")
        if attrs is not None:
            attrs = attrs.assign(**{CUSTOMER_ID: attrs[CUSTOMER_ID].astype(str)})
            attrs = attrs.drop(columns=[CREATED_AT], errors="ignore").set_index(CUSTOMER_ID)
            attrs = attrs.drop(columns=[c for c in attrs if c in seg], errors="ignore")
        self.attribute_names = [] if attrs is None else list(attrs.columns)
        churn = _read(f, "churn")
        follow = _read(f, "followup")
        table = seg.set_index(CUSTOMER_ID)
        if attrs is not None:
            table = table.join(attrs)
        reasons = pd.Series([[] for _ in range(len(table))], index=table.index, dtype=object)
        if follow is not None:
            follow[CUSTOMER_ID] = follow[CUSTOMER_ID].astype(str)
            fl = follow.set_index(CUSTOMER_ID)
            table = table.join(fl[["suggested_action"]])
            rule = fl["reasons"].map(_texts).reindex(table.index)
            reasons = rule.where(rule.notna(), reasons)
        if churn is not None:
            churn[CUSTOMER_ID] = churn[CUSTOMER_ID].astype(str)
            model = churn.set_index(CUSTOMER_ID)["reasons"].map(_texts).reindex(table.index)
            has = model.map(lambda r: isinstance(r, list) and len(r) > 0)
            reasons = model.where(has, reasons)
            if "risk_band" not in table:
                table["risk_band"] = churn.set_index(CUSTOMER_ID)["risk_band"]
        table["reasons"] = reasons
        if "risk_band" not in table:
            table["risk_band"] = None
        if "value_at_risk_12m" in table:
            table = table.sort_values(["value_at_risk_12m"], ascending=False, kind="stable")
        self.table = table
        ev = _read(f, "customer_events")
        self.events = ({k: g for k, g in ev.groupby(CUSTOMER_ID, sort=False)}
                       if ev is not None else {})
        hist = _read(f, "history")
        self.history = ({str(k): g for k, g in hist.groupby(UNIQUE_ID, sort=False)}
                        if hist is not None else {})
        kpis = _read(f, "kpis")
        self.periods = (sorted(kpis.loc[kpis["level"] == "overall", "period"].astype(str)
                               .unique()) if kpis is not None else [])
        products = _read(f, "products")
        self.products = (products.assign(**{PRODUCT_ID: products[PRODUCT_ID].astype(str)})
                         if products is not None else None)

    # lists ------------------------------------------------------------------------------
    def filters(self) -> dict[str, list[str]]:
        """The values each filter of the customer list offers."""
        out = {"segment": sorted(self.table["segment"].dropna().astype(str).unique()),
               "risk_band": [b for b in RISK_BANDS
                             if b in set(self.table["risk_band"].dropna().astype(str))]}
        for name in self.attribute_names:
            values = self.table[name].dropna().astype(str).unique()
            if 1 < len(values) <= MAX_FILTER_VALUES:
                out[name] = sorted(values)
        return out

    def customers(self, params: dict[str, str]) -> dict:
        """Customers with value at risk, largest first, filtered by ``params``: ``segment``,
        ``risk_band``, any attribute offered by :meth:`filters`, ``q`` (id or name contains),
        ``limit`` (default 50, at most 500) and ``offset``."""
        t = self.table
        if "value_at_risk_12m" in t:
            t = t[t["value_at_risk_12m"] > 0]
        offered = self.filters()
        for key, value in params.items():
            if key in ("q", "limit", "offset") or value in (None, ""):
                continue
            if key not in offered:
                raise ForecastingError(
                    f"unknown filter {key!r}; filters: {', '.join(sorted(offered))}, q, "
                    f"limit, offset")
            t = t[t[key].astype(str) == str(value)]
        q = (params.get("q") or "").strip().lower()
        if q:
            text = pd.Series(t.index.str.lower(), index=t.index)
            if "name" in t:
                text = text + " " + t["name"].astype(str).str.lower()
            t = t[text.str.contains(q, regex=False)]
        limit = _int_param(params, "limit", 50, 1, 500)
        offset = _int_param(params, "offset", 0, 0, 10**9)
        page = t.iloc[offset:offset + limit]
        cols = [c for c in ("value_at_risk_12m", "churn_probability", "risk_band", "segment",
                            "lifecycle_stage", "churn_source", "suggested_action", "name")
                if c in page]
        rows = _records(page[cols + [a for a in self.attribute_names
                                     if a in offered and a not in cols]].reset_index())
        for row, reasons in zip(rows, page["reasons"]):
            row["reasons"] = list(reasons or [])[:3]
        for i, row in enumerate(rows):
            row["rank"] = offset + i + 1
        return {"total": int(len(t)), "offset": offset, "rows": rows,
                "as_of": self.meta.get("as_of")}

    def customer(self, customer_id: str, history_root: Path | None = None) -> dict:
        """Everything the customer view shows about one customer."""
        if customer_id not in self.table.index:
            raise NotFound(f"customer_id {customer_id!r} is not a known customer of the "
                           f"snapshot as of {self.meta.get('as_of')}")
        row = self.table.loc[customer_id]
        out = {k: _value(v) for k, v in row.items() if k != "reasons"}
        out["customer_id"] = customer_id
        out["reasons"] = list(row["reasons"] or [])
        out["attributes"] = {a: _value(row[a]) for a in self.attribute_names}
        ev = self.events.get(customer_id)
        ev = ev if ev is not None else pd.DataFrame(columns=["event", "date"])
        pick = lambda kind, cols: _records(ev.loc[ev["event"] == kind, cols])  # noqa: E731
        out["orders"] = pick("orders", ["date", "orders", "revenue"])
        out["complaints"] = pick("complaint", ["date", "category", "severity",
                                               "resolution_days"])
        out["surveys"] = pick("survey", ["date", "csat", "nps"])
        hist = read_score_history(customer_id, history_root)
        if not len(hist) and row.get("churn_probability") is not None:
            hist = pd.DataFrame([{"as_of": self.meta.get("as_of"),
                                  "churn_probability": row.get("churn_probability"),
                                  "risk_band": row.get("risk_band"),
                                  "model_version": self.meta.get("churn_model_version"),
                                  "snapshot_id": "current"}])
        out["score_history"] = _records(hist)
        out["as_of"] = self.meta.get("as_of")
        return out

    def product_list(self) -> list[dict]:
        ids = sorted(self.history)
        base = pd.DataFrame({PRODUCT_ID: ids})
        if self.products is not None:
            base = base.merge(self.products, on=PRODUCT_ID, how="left")
        base["periods"] = [len(self.history[i]) for i in ids]
        return _records(base)

    def product_history(self, product_id: str) -> dict:
        g = self.history.get(product_id)
        if g is None:
            raise NotFound(f"product_id {product_id!r} has no demand history in the snapshot")
        g = g.sort_values(DS).tail(HISTORY_PERIODS)
        return {"product_id": product_id,
                "freq": self.meta.get("forecast", {}).get("freq"),
                "points": [{"ds": f"{d:%Y-%m-%d}", "y": _value(y)}
                           for d, y in zip(pd.to_datetime(g[DS]), g[Y])]}

    def segment_summary(self) -> list[dict]:
        """Customers, revenue to date, its share and value at risk per segment (customers
        without an order in the window have no segment: counted as "no recent orders")."""
        t = self.table.assign(segment=self.table["segment"].fillna("no recent orders"))
        rev = "revenue_to_date" if "revenue_to_date" in t else None
        g = t.groupby("segment", sort=False).agg(
            customers=("segment", "size"),
            revenue=(rev, "sum") if rev else ("segment", "size"),
            value_at_risk=("value_at_risk_12m", "sum") if "value_at_risk_12m" in t
            else ("segment", "size"))
        total = float(g["revenue"].clip(lower=0).sum()) or 1.0
        g["revenue_share_pct"] = 100.0 * g["revenue"].clip(lower=0) / total
        g = g.sort_values("customers", ascending=False)
        return _records(g.reset_index())

    def session(self) -> dict:
        return {"as_of": self.meta.get("as_of"), "created_at": self.meta.get("created_at"),
                "notes": self.meta.get("notes", {}), "forecast": self.meta.get("forecast"),
                "churn_model_version": self.meta.get("churn_model_version"),
                "demand_model_version": self.meta.get("demand_model_version"),
                "customers": int(len(self.table)), "products": len(self.history),
                "periods": self.periods,
                "filters": self.filters()}


def _int_param(params: dict, name: str, default: int, lo: int, hi: int) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        n = int(raw)
    except ValueError:
        raise ForecastingError(f"{name} must be a whole number, got {raw!r}") from None
    if not lo <= n <= hi:
        raise ForecastingError(f"{name} must be between {lo} and {hi}, got {n}")
    return n


@lru_cache(maxsize=2)
def _cached(folder: str, stamp: str) -> PageData:
    return PageData(Path(folder))


def page_data(folder: Path, meta: dict) -> PageData:
    """The :class:`PageData` of a served snapshot, read once per snapshot (keyed by its
    folder and creation time, so a reloaded snapshot is read again)."""
    stamp = f"{meta.get('created_at')}|{meta.get('as_of')}|{meta.get('snapshot_id')}"
    return _cached(str(folder), stamp)
