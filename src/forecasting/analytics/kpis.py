"""The managers' customer KPIs per period: overall, per RFM segment and per customer.

Output is one long table, one row per period, level, group and KPI:

``period`` (``"2024-01"``), ``period_start``, ``period_end`` (first and last day),
``level`` (``overall`` | ``segment`` | ``customer``), ``group`` (``all``, the segment name or
the customer id), ``kpi``, ``value``, ``numerator``, ``denominator``, ``unit``, ``window``
(for retention and churn: the windows they measure, see :func:`windows`) and ``note``.
A KPI that cannot be computed (no data, no such table, window not complete) has an empty
``value`` and the reason in ``note``; it is never reported as 0. Customer rows list only
the KPIs defined for that customer and period (a customer with no survey has no NPS row).

Definitions (a period ``P`` runs from its first day ``s`` to its last day; ``e`` is the day
after it; ``L`` = ``lookback_days``, default 365; ``H`` = ``horizon_days``, default 90).
Only completed orders count as purchases; orders without a customer id are left out.

* **customers at start** of P: customers with a completed order in ``[s - L, s)``, i.e. in
  the ``L`` days before the period starts (the product's "active customer" on cutoff
  ``s - 1 day``). **Customers at end**: completed order in ``[e - L, e)``.
  **New customers**: first completed order ever falls in P.
* ``order_fulfilment_rate_pct`` = orders delivered in P on time / orders delivered in P
  x 100. An order is delivered when all its lines have a ``delivered_date`` (the latest
  counts); on time when that day is on or before the latest ``promised_date`` day;
  cancelled orders and orders without a promised date are left out.
* ``retention_rate_pct`` = (customers at end - new customers) / customers at start x 100.
* ``repurchase_rate_pct`` = customers with 2+ completed orders in P / customers with 1+.
* ``churn_rate_pct`` = customers at start with no completed order in ``[s, s + H)``
  / customers at start x 100 (the churn definition with cutoff ``s - 1 day``); empty while
  ``s + H`` lies after the last order date.
* ``nps`` = % promoters (nps 9-10) - % detractors (0-6) among surveys taken in P.
* ``csat_mean`` = mean ``csat`` of surveys taken in P (scale 1-5).
* ``complaint_rate_per_100_orders`` (all categories) and ``..._<category>`` = complaints
  opened in P / distinct non-cancelled orders placed in P x 100.
* ``resolution_days_mean``, ``resolution_days_p90`` = mean and 90th percentile (linear
  interpolation) of ``resolved_at - opened_at`` in days over complaints resolved in P.

Segment rows group customers by their RFM segment (:mod:`forecasting.analytics.segments`) as of the
day before the period starts; customers whose first order falls in P take their segment as
of the period's last day; customers without any completed order are ``no segment``.

Example:
    >>> from forecasting.sample import generate  # doctest: +SKIP
    >>> table = kpi_table(generate(customers=200, seed=0))  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.dataset import Dataset
from forecasting.errors import ForecastingError
from forecasting.schema import (
    CATEGORY, COMPLAINT_CATEGORIES, CSAT, CUSTOMER_ID, DELIVERED_DATE, NPS, OPENED_AT,
    ORDER_DATE, ORDER_ID, PROMISED_DATE, RESOLVED_AT, STATUS, STATUS_CANCELLED,
    STATUS_COMPLETED, SURVEYED_AT,
)
from forecasting.analytics.segments import rfm_segments
from forecasting.cutoff import Cutoff
from forecasting.labels import active_customers, churned
from forecasting.settings import DEFAULT_CHURN_HORIZON_DAYS, DEFAULT_LOOKBACK_DAYS
from tqdm.auto import tqdm

log = logging.getLogger(__name__)

PERIODS = {"month": "M", "quarter": "Q", "week": "W", "year": "Y"}
NO_SEGMENT = "no segment"
COLUMNS = ["period", "period_start", "period_end", "level", "group", "kpi", "value",
           "numerator", "denominator", "unit", "window", "note"]


@dataclass(frozen=True)
class KpiConfig:
    """Period length and the windows behind "customer at start" and "churned" (days)."""

    period: str = "month"
    lookback_days: int = DEFAULT_LOOKBACK_DAYS
    horizon_days: int = DEFAULT_CHURN_HORIZON_DAYS
    levels: tuple[str, ...] = ("overall", "segment", "customer")


def windows(cfg: KpiConfig) -> dict[str, str]:
    """What retention and churn each measure, in words (the ``window`` column): they use the
    same "active" and "churned" definitions (:mod:`forecasting.labels`) over different
    windows, so a monthly retention near 100 % sits beside a 90-day churn rate of 25 %."""
    active = f"active = a completed order in the {cfg.lookback_days} days before"
    return {
        "retention_rate_pct": f"{active} the period's first day and after its last day, "
                              f"new customers left out (one {cfg.period})",
        "churn_rate_pct": f"{active} the period's first day; churned = no completed order in "
                          f"the {cfg.horizon_days} days from it (the churn model's label)",
    }


@dataclass(frozen=True)
class _Kpi:
    name: str
    numerator: str
    denominator: str
    scale: float
    unit: str
    empty_note: str


def _ratio_kpis(cfg: KpiConfig) -> list[_Kpi]:
    kpis = [
        _Kpi("order_fulfilment_rate_pct", "on_time", "delivered", 100, "%",
             "no order with a promised date was delivered in the period"),
        _Kpi("retention_rate_pct", "retained", "at_start", 100, "%",
             f"no customers at period start (none with a completed order in the "
             f"{cfg.lookback_days} days before it): retention is undefined"),
        _Kpi("repurchase_rate_pct", "repeat_buyers", "buyers", 100, "%",
             "no customer placed a completed order in the period"),
        _Kpi("churn_rate_pct", "churned", "at_start_churn", 100, "%",
             f"no customers at period start (none with a completed order in the "
             f"{cfg.lookback_days} days before it)"),
        _Kpi("nps", "nps_net", "nps_responses", 100, "score -100..100",
             "no survey with an nps score in the period"),
        _Kpi("csat_mean", "csat_sum", "csat_responses", 1, "score 1-5",
             "no survey in the period"),
        _Kpi("complaint_rate_per_100_orders", "complaints_all", "orders_placed", 100,
             "per 100 orders", "no orders placed in the period"),
    ]
    for cat in COMPLAINT_CATEGORIES:
        kpis.append(_Kpi(f"complaint_rate_per_100_orders_{cat}", f"complaints_{cat}",
                         "orders_placed", 100, "per 100 orders",
                         "no orders placed in the period"))
    return kpis


def periods_of(data: Dataset, period: str = "month") -> pd.PeriodIndex:
    """Every period from the first to the last dated event of the data set."""
    if period not in PERIODS:
        raise ForecastingError(f"unknown period {period!r}; use one of {', '.join(PERIODS)}")
    dates = [data.orders[ORDER_DATE]]
    if data.surveys is not None:
        dates.append(data.surveys[SURVEYED_AT])
    if data.complaints is not None:
        dates.append(data.complaints[OPENED_AT])
    all_dates = pd.concat(dates).dropna()
    if all_dates.empty:
        raise ForecastingError("orders: no dated rows; the data set has no period to report")
    return pd.period_range(all_dates.min(), all_dates.max(), freq=PERIODS[period])


def _customer_orders(orders: pd.DataFrame) -> pd.DataFrame:
    """One row per order of a known customer: date, whether completed, whether cancelled."""
    o = orders[orders[CUSTOMER_ID].notna()]
    status = o[STATUS] if STATUS in o else pd.Series(STATUS_COMPLETED, o.index)
    g = o.assign(_done=status == STATUS_COMPLETED, _cancel=status == STATUS_CANCELLED)
    return g.groupby(ORDER_ID, sort=False).agg(
        **{CUSTOMER_ID: (CUSTOMER_ID, "first"), ORDER_DATE: (ORDER_DATE, "min"),
           "completed": ("_done", "any"), "cancelled": ("_cancel", "all")}).reset_index()


def _delivered_orders(orders: pd.DataFrame) -> pd.DataFrame | None:
    """Delivered, non-cancelled orders with a promised date: customer, day, on_time."""
    if DELIVERED_DATE not in orders or PROMISED_DATE not in orders:
        return None
    o = orders[orders[CUSTOMER_ID].notna()]
    if STATUS in o:
        o = o[o[STATUS] != STATUS_CANCELLED]
    g = o.groupby(ORDER_ID, sort=False).agg(
        **{CUSTOMER_ID: (CUSTOMER_ID, "first"), "delivered": (DELIVERED_DATE, "max"),
           "promised": (PROMISED_DATE, "max"), "lines": (DELIVERED_DATE, "size"),
           "delivered_lines": (DELIVERED_DATE, "count")})
    g = g[(g["delivered_lines"] == g["lines"]) & g["delivered"].notna() & g["promised"].notna()]
    on_time = g["delivered"].dt.normalize() <= g["promised"].dt.normalize()
    return pd.DataFrame({CUSTOMER_ID: g[CUSTOMER_ID], "day": g["delivered"],
                         "on_time": on_time.astype(int)})


def _components(data: Dataset, periods: pd.PeriodIndex, cfg: KpiConfig,
                ) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Additive per (period, customer) counts, resolution times, and what data exists."""
    freq = periods.freqstr
    orders = _customer_orders(data.orders)
    done = orders[orders["completed"]]
    first_order = done.groupby(CUSTOMER_ID)[ORDER_DATE].min()
    last_day = done[ORDER_DATE].max()
    data_end = (last_day.normalize() + pd.Timedelta(days=1)) if pd.notna(last_day) else None
    parts: list[pd.DataFrame] = []
    churn_complete: dict[pd.Period, bool] = {}
    for p in tqdm(periods, desc="kpis: periods", unit="period", disable=None, leave=False):
        s, e = p.start_time.normalize(), (p + 1).start_time.normalize()
        start, end = Cutoff.before(s), Cutoff.before(e)  # the day before P, P's last day
        at_start = active_customers(done, start, cfg.lookback_days)
        at_end = active_customers(done, end, cfg.lookback_days)
        new = first_order.index[(first_order >= s) & (first_order < e)]
        in_p = done[(done[ORDER_DATE] >= s) & (done[ORDER_DATE] < e)]
        n_orders = in_p.groupby(CUSTOMER_ID)[ORDER_ID].nunique()
        complete = data_end is not None and start.after(cfg.horizon_days).end < data_end
        churn_complete[p] = complete
        lost = churned(done, start, cfg.horizon_days, cfg.lookback_days)
        lost = lost.index[lost.to_numpy() == 1]
        idx = pd.Index(at_start).union(pd.Index(at_end)).union(new).union(n_orders.index)
        c = pd.DataFrame(index=idx)
        c["at_start"] = idx.isin(at_start).astype(int)
        c["at_end"] = idx.isin(at_end).astype(int)
        c["new"] = idx.isin(new).astype(int)
        c["retained"] = c["at_end"] - c["new"]
        c["buyers"] = idx.isin(n_orders.index).astype(int)
        c["repeat_buyers"] = (n_orders.reindex(idx, fill_value=0) >= 2).astype(int)
        c["at_start_churn"] = c["at_start"] if complete else 0
        c["churned"] = idx.isin(lost).astype(int) if complete else 0
        c["period"] = p
        parts.append(c.rename_axis(CUSTOMER_ID).reset_index())
    comp = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()

    placed = orders[~orders["cancelled"]]
    extra = [placed.assign(period=placed[ORDER_DATE].dt.to_period(freq), orders_placed=1)
             [[CUSTOMER_ID, "period", "orders_placed"]]]
    delivered = _delivered_orders(data.orders)
    if delivered is not None:
        extra.append(delivered.assign(period=delivered["day"].dt.to_period(freq),
                                      delivered=1)[[CUSTOMER_ID, "period", "delivered",
                                                    "on_time"]])
    surveys = data.surveys
    if surveys is not None:
        sv = pd.DataFrame({CUSTOMER_ID: surveys[CUSTOMER_ID],
                           "period": surveys[SURVEYED_AT].dt.to_period(freq)})
        sv["csat_responses"] = surveys[CSAT].notna().astype(int)
        sv["csat_sum"] = surveys[CSAT].fillna(0.0)
        nps = surveys[NPS] if NPS in surveys else pd.Series(np.nan, surveys.index)
        sv["nps_responses"] = nps.notna().astype(int)
        sv["nps_net"] = (nps >= 9).astype(int) - (nps <= 6).astype(int)
        extra.append(sv)
    resolution = pd.DataFrame(columns=[CUSTOMER_ID, "period", "resolution_days"])
    complaints = data.complaints
    if complaints is not None:
        cp = pd.DataFrame({CUSTOMER_ID: complaints[CUSTOMER_ID],
                           "period": complaints[OPENED_AT].dt.to_period(freq),
                           "complaints_all": 1})
        for cat in COMPLAINT_CATEGORIES:
            cp[f"complaints_{cat}"] = (complaints[CATEGORY] == cat).astype(int)
        extra.append(cp)
        if RESOLVED_AT in complaints:
            ok = complaints[RESOLVED_AT].notna()
            resolution = pd.DataFrame({
                CUSTOMER_ID: complaints.loc[ok, CUSTOMER_ID],
                "period": complaints.loc[ok, RESOLVED_AT].dt.to_period(freq),
                "resolution_days": (complaints.loc[ok, RESOLVED_AT]
                                    - complaints.loc[ok, OPENED_AT]).dt.total_seconds() / 86400,
            })
    comp = pd.concat([comp, *extra], ignore_index=True)
    comp = comp[comp["period"].isin(periods)]
    comp = comp.groupby(["period", CUSTOMER_ID], sort=True).sum(numeric_only=True)
    resolution = resolution[resolution["period"].isin(periods)]
    context = {
        "delivery": delivered is not None,
        "surveys": surveys is not None,
        "nps": surveys is not None and NPS in surveys,
        "complaints": complaints is not None,
        "resolved_at": complaints is not None and RESOLVED_AT in complaints,
        "churn_complete": churn_complete,
        "last_order_day": None if pd.isna(last_day) else last_day.date(),
    }
    return comp, resolution, context


def _notes_for_missing_tables(kpi: str, ctx: dict) -> str | None:
    if kpi == "order_fulfilment_rate_pct" and not ctx["delivery"]:
        return "orders have no promised_date and delivered_date columns"
    if kpi in ("nps", "csat_mean") and not ctx["surveys"]:
        return "no surveys table in the data set"
    if kpi == "nps" and not ctx["nps"]:
        return "surveys have no nps column"
    if kpi.startswith("complaint_rate") or kpi.startswith("resolution_days"):
        if not ctx["complaints"]:
            return "no complaints table in the data set"
        if kpi.startswith("resolution_days") and not ctx["resolved_at"]:
            return "complaints have no resolved_at column"
    return None


def _long(sums: pd.DataFrame, res: pd.DataFrame, keys: list[str], cfg: KpiConfig,
          ctx: dict) -> pd.DataFrame:
    """KPI rows from summed components ``sums`` and resolution stats ``res`` (same index)."""
    frames = []
    for k in _ratio_kpis(cfg):
        num = sums[k.numerator] if k.numerator in sums else pd.Series(0.0, sums.index)
        den = sums[k.denominator] if k.denominator in sums else pd.Series(0.0, sums.index)
        value = (k.scale * num / den.where(den > 0)).astype(float)
        note = pd.Series(np.where(value.isna(), k.empty_note, ""), index=sums.index)
        missing = _notes_for_missing_tables(k.name, ctx)
        if missing:
            note[:] = missing
            value[:] = np.nan
        elif k.name == "churn_rate_pct":
            periods = sums.index.get_level_values("period")
            open_window = ~periods.map(lambda p: ctx["churn_complete"].get(p, False)).to_numpy(
                dtype=bool)
            note[open_window] = (f"churn window (period start, +{cfg.horizon_days} days) ends "
                                 f"after the last order date {ctx['last_order_day']}")
        frames.append(pd.DataFrame({"kpi": k.name, "value": value, "numerator": num.astype(float),
                                    "denominator": den.astype(float), "unit": k.unit,
                                    "window": windows(cfg).get(k.name, ""), "note": note}))
    for stat, unit in (("mean", "days"), ("p90", "days")):
        name = f"resolution_days_{stat}"
        value = res[stat].reindex(sums.index) if len(res) else pd.Series(np.nan, sums.index)
        count = (res["count"].reindex(sums.index).fillna(0) if len(res)
                 else pd.Series(0.0, sums.index))
        note = pd.Series(np.where(value.isna(), "no complaint was resolved in the period", ""),
                         index=sums.index)
        missing = _notes_for_missing_tables(name, ctx)
        if missing:
            note[:] = missing
        frames.append(pd.DataFrame({"kpi": name, "value": value.astype(float),
                                    "numerator": np.nan, "denominator": count.astype(float),
                                    "unit": unit, "window": "", "note": note}))
    out = pd.concat(frames)
    out.index.names = keys
    return out.reset_index()


def _resolution_stats(res: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    if res.empty:
        return pd.DataFrame(columns=["mean", "p90", "count"])
    g = res.groupby(keys, sort=True)["resolution_days"]
    return pd.DataFrame({"mean": g.mean(), "p90": g.quantile(0.9), "count": g.size()})


def segment_map(orders: pd.DataFrame, periods: pd.PeriodIndex, lookback_days: int = DEFAULT_LOOKBACK_DAYS,
                ) -> pd.Series:
    """Segment per (period, customer_id): as of the day before the period, else its last day."""
    cache: dict[pd.Timestamp, pd.Series] = {}

    def seg_on(day: pd.Timestamp) -> pd.Series:
        if day not in cache:
            cache[day] = rfm_segments(orders, day, lookback_days)["segment"]
        return cache[day]

    parts = []
    for p in periods:
        before = seg_on(p.start_time.normalize() - pd.Timedelta(days=1))
        after = seg_on((p + 1).start_time.normalize() - pd.Timedelta(days=1))
        seg = before.combine_first(after)
        parts.append(pd.DataFrame({"period": p, CUSTOMER_ID: seg.index, "segment": seg.values}))
    if not parts:
        return pd.Series(dtype=object)
    return pd.concat(parts).set_index(["period", CUSTOMER_ID])["segment"]


def kpi_table(data: Dataset, cfg: KpiConfig = KpiConfig()) -> pd.DataFrame:
    """The KPI table (see module docstring) for every period of ``data``."""
    periods = periods_of(data, cfg.period)
    comp, res, ctx = _components(data, periods, cfg)
    frames = []
    if "overall" in cfg.levels:
        sums = comp.groupby(level="period").sum().reindex(periods, fill_value=0)
        sums.index = pd.MultiIndex.from_arrays([sums.index, ["all"] * len(sums)],
                                               names=["period", "group"])
        r = _resolution_stats(res.assign(group="all"), ["period", "group"])
        frames.append(_long(sums, r, ["period", "group"], cfg, ctx).assign(level="overall"))
    if "segment" in cfg.levels:
        seg = segment_map(data.orders, periods, cfg.lookback_days)
        seg_of = seg.reindex(comp.index).fillna(NO_SEGMENT).to_numpy()
        sums = comp.groupby([comp.index.get_level_values("period"), seg_of]).sum()
        sums.index.names = ["period", "group"]
        rkeys = pd.MultiIndex.from_arrays([res["period"], res[CUSTOMER_ID]])
        r = _resolution_stats(res.assign(group=seg.reindex(rkeys).fillna(NO_SEGMENT).to_numpy()),
                              ["period", "group"])
        frames.append(_long(sums, r, ["period", "group"], cfg, ctx).assign(level="segment"))
    if "customer" in cfg.levels:
        sums = comp.copy()
        sums.index.names = ["period", "group"]
        r = _resolution_stats(res.rename(columns={CUSTOMER_ID: "group"}), ["period", "group"])
        cust = _long(sums, r, ["period", "group"], cfg, ctx)
        frames.append(cust[cust["value"].notna()].assign(level="customer"))
    out = pd.concat(frames, ignore_index=True)
    per = pd.PeriodIndex(out["period"])
    out["period_start"] = per.start_time.normalize()
    out["period_end"] = per.end_time.normalize()
    out["period"] = per.astype(str)
    level_order = {"overall": 0, "segment": 1, "customer": 2}
    out = out.sort_values(["period", "level", "group"], key=lambda c: c.map(level_order)
                          if c.name == "level" else c, kind="stable")
    log.info("computed %d KPI rows over %d %s periods", len(out), len(periods), cfg.period)
    return out[COLUMNS].reset_index(drop=True)


def kpi_wide(table: pd.DataFrame, level: str = "overall") -> pd.DataFrame:
    """One row per period and group, one column per KPI value (for plots and reading)."""
    sub = table[table["level"] == level]
    return sub.pivot_table(index=["period", "group"], columns="kpi", values="value",
                           aggfunc="first", dropna=False, sort=True)
