"""The month-by-month simulation behind :func:`forecasting.sample.generate`.

Each month, for the customers still with us: orders follow each customer's own rhythm
(renewal process with gamma gaps), shaped by weekly and yearly seasonality and a trend;
orders become lines, shipments (some late), quality problems, returns, complaints and surveys;
then the month's experience feeds a dissatisfaction stock, and a hazard decides who leaves
for good. Vectorised over customers: the Python loops run over months and over the few
orders a customer places within a month, never over rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecasting.sample._population import LINE_SIGMA, Customers, Products
from tqdm.auto import tqdm

DECAY = 0.9                  # monthly decay of the experience stocks
HAZARD_BASE = -4.3            # logit of the monthly churn probability of a content customer
HAZARD_DISSATISFACTION = 1.6
HAZARD_TEMPER = 0.8 
HAZARD_TIER = (-0.6, -0.3, 0.0)
HAZARD_TENURE = -0.25        # per log(1 + years of tenure)
GAP_SHAPE = 4.0              # gamma shape of the gap between orders (>1: a regular rhythm)


@dataclass
class _Stocks:
    """Decaying memory of what each customer went through."""

    late: np.ndarray
    quality: np.ndarray
    complaints: np.ndarray
    service: np.ndarray
    price: np.ndarray

    def dissatisfaction(self) -> np.ndarray:
        return 0.25 * self.late + 0.3 * self.quality + 0.8 * self.complaints


@dataclass
class _Out:
    orders: list = field(default_factory=list)
    returns: list = field(default_factory=list)
    complaints: list = field(default_factory=list)
    surveys: list = field(default_factory=list)
    n_orders: int = 0


def _season(day: np.ndarray, t0: pd.Timestamp) -> np.ndarray:
    """Yearly seasonality times trend, as a multiplier of the order rate."""
    doy = (t0.day_of_year + day) % 365.25
    years = day / 365.25
    return (1.0 + 0.15 * np.cos(2 * np.pi * (doy - 110) / 365.25)) * (1.0 + 0.08 * years)


def _shift_weekend(rng, day: np.ndarray, t0: pd.Timestamp, lo: np.ndarray, hi: int) -> np.ndarray:
    """Move 90 % of weekend orders to a random weekday of the same week, within [lo, hi]."""
    dow = (t0.day_of_week + day) % 7
    move = (dow >= 5) & (rng.random(day.size) < 0.9)
    out = np.where(move, day - dow + rng.integers(0, 5, day.size), day)
    ok = (out >= lo) & (out <= hi)
    return np.where(ok, out, day)


def _periods(t0: pd.Timestamp, span: int) -> list[tuple[int, int]]:
    t1 = t0 + pd.Timedelta(days=span)
    starts = [0] + [(m - t0).days for m in pd.date_range(t0, t1, freq="MS") if t0 < m < t1]
    return list(zip(starts, starts[1:] + [span]))


def simulate(rng: np.random.Generator, cust: Customers, prod: Products,
             t0: pd.Timestamp, span: int, progress: bool = False,
             demand_rng: np.random.Generator | None = None) -> dict[str, object]:
    """Run the simulation over days [0, span): column arrays of orders, returns, complaints,
    surveys, and each customer's churn day (inf = stays). Units per line are drawn from
    ``demand_rng`` (a separate stream: the main one, and with it order timing and churn, does
    not depend on them)."""
    n = len(cust.created_day)
    z = lambda: np.zeros(n)  # noqa: E731
    st = _Stocks(z(), z(), z(), z(), z())
    churn_day = np.full(n, np.inf)
    start_day = np.maximum(cust.created_day, 0).astype(float)
    next_day = np.where(cust.created_day < 0, rng.uniform(0, 1, n) * cust.gap_mean_days,
                        cust.created_day + rng.uniform(0, 14, n))
    next_day[cust.prospect] = np.inf
    out = _Out()
    for a, b in tqdm(_periods(t0, span), desc="sample months", unit="month",
                     disable=not progress, leave=False):
        d = np.minimum(st.dissatisfaction(), 4.0)
        c_idx, c_day = _order_times(rng, cust, next_day, churn_day, d, t0, a, b)
        c_day = _shift_weekend(rng, c_day, t0, np.ceil(start_day[c_idx]), span - 1)
        ev = _orders(rng, cust, prod, c_idx, c_day, t0, span, out, demand_rng)
        _complaints(rng, cust, ev, churn_day, st, a, b, span, out)
        _update_and_churn(rng, cust, st, ev, churn_day, start_day, a, b, out)
    frames = _frames(out)
    frames["churn_day"] = churn_day
    return frames


def _order_times(rng, cust, next_day, churn_day, d, t0, a, b):
    """Order days in [a, b) of every customer, advancing each one's renewal clock."""
    idx_all, day_all = [], []
    idx = np.flatnonzero((next_day < b) & (next_day < churn_day))
    while idx.size:
        day = next_day[idx]
        idx_all.append(idx)
        day_all.append(day)
        mean_gap = cust.gap_mean_days[idx] * (1 + 0.3 * d[idx]) / _season(day, t0)
        next_day[idx] = day + np.maximum(rng.gamma(GAP_SHAPE, mean_gap / GAP_SHAPE), 1.0)
        keep = (next_day[idx] < b) & (next_day[idx] < churn_day[idx])
        idx = idx[keep]
    if not idx_all:
        return np.zeros(0, int), np.zeros(0, int)
    return np.concatenate(idx_all), np.floor(np.concatenate(day_all)).astype(int)


def _orders(rng, cust, prod, c_idx, c_day, t0, span, out, demand_rng=None):
    """Lines, shipments, quality problems and returns of the period's orders."""
    m = c_idx.size
    n_lines = 1 + rng.poisson(cust.lines_mean[c_idx] - 1.0)
    o = np.repeat(np.arange(m), n_lines)
    c = c_idx[o]
    k = o.size
    fav = cust.favourites[c, rng.integers(0, cust.favourites.shape[1], k)]
    anyp = rng.choice(prod.popularity.size, k, p=prod.popularity)
    p = np.where(rng.random(k) < 0.7, fav, anyp)
    day = c_day[o]
    doy = (t0.day_of_year + day) % 365.25
    season = 1 + prod.season_amp[p] * np.cos(2 * np.pi * (doy - prod.season_peak_doy[p]) / 365.25)
    noise = rng.lognormal(0.0, 0.5, k)  # the main stream draws it whatever is used below
    if demand_rng is not None:  # the demand profile: its own stream, its own noise and growth
        growth = (1.0 + prod.growth[p]) ** (day / 365.25)
        noise = demand_rng.lognormal(0.0, LINE_SIGMA, k) * growth
    qty = np.ceil(cust.qty_scale[c] * noise * season)
    amount = np.round(qty * prod.unit_price[p] * (1 - cust.discount[c]), 2)
    # one shipment per order: promised after the longest product lead time
    first = np.concatenate([[0], np.cumsum(n_lines)[:-1]])
    promise = np.maximum.reduceat(prod.promise_days[p], first) if k else np.zeros(0, int)
    cancelled = rng.random(m) < 0.02
    late = rng.random(m) < cust.late_share[c_idx]
    delay = np.where(late, 1 + np.floor(rng.lognormal(np.log(2.5), 0.8, m)),
                     -rng.integers(0, 3, m)).astype(float)
    promised = c_day + promise
    delivered = np.maximum(promised + delay, c_day).astype(float)
    delivered[cancelled | (delivered > span - 1)] = np.nan
    late = late & ~np.isnan(delivered)
    status = np.where(cancelled, 2, 0)
    problem = (rng.random(k) < prod.defect_rate[p]) & ~np.isnan(delivered[o])
    ret = (problem & (rng.random(k) < 0.6)) | ((rng.random(k) < 0.003) & ~np.isnan(delivered[o]))
    ret_day = delivered[o][ret] + rng.integers(1, 15, ret.sum())
    keep = ret_day <= span - 1
    share = rng.uniform(0.3, 1.0, ret.sum())
    ret_qty = -np.maximum(1, np.round(qty[ret] * share))
    out.returns.append((c[ret][keep], ret_day[keep].astype(int), p[ret][keep], ret_qty[keep],
                        np.round(ret_qty * amount[ret] / qty[ret], 2)[keep]))
    line_no = np.arange(k) - first[o]
    seq = out.n_orders + o
    out.n_orders += m
    out.orders.append((c, day, p, qty, amount, promised[o], delivered[o], status[o], seq, line_no))
    return {"c_idx": c_idx, "delivered": delivered, "late": late, "delay": delay,
            "problem_c": c[problem], "problem_day": delivered[o][problem]}


def _resolution(rng, opened, sev, span):
    days = np.ceil(rng.lognormal(np.log(3.0), 0.9, opened.size) * np.array([1.0, 1.6, 2.4])[sev])
    resolved = (opened + days).astype(float)
    resolved[(resolved > span - 1) | (rng.random(opened.size) < 0.02)] = np.nan
    return resolved


def _complaints(rng, cust, ev, churn_day, st, a, b, span, out):
    """Delivery complaints after late shipments, quality complaints after defects, and the
    background of service, price and other complaints (more when dissatisfied)."""
    n = churn_day.size
    # delivery
    late = np.flatnonzero(ev["late"])
    c = ev["c_idx"][late]
    pr = np.clip(0.08 + 0.05 * ev["delay"][late] + 0.05 * cust.temper[c], 0.02, 0.8)
    hit = rng.random(late.size) < pr
    c, delay = c[hit], ev["delay"][late][hit]
    opened = ev["delivered"][late][hit] + rng.integers(0, 4, hit.sum())
    sev = np.where(delay > 7, 2, np.where(delay > 3, 1, 0))
    parts = [(c, opened, np.full(c.size, 1), sev)]
    # quality
    c = ev["problem_c"]
    hit = rng.random(c.size) < np.clip(0.45 + 0.1 * cust.temper[c], 0.1, 0.9)
    opened = ev["problem_day"][hit] + rng.integers(1, 10, hit.sum())
    parts.append((c[hit], opened, np.full(hit.sum(), 0),
                  rng.choice(3, hit.sum(), p=[0.3, 0.4, 0.3])))
    # background: service, price, other
    alive = (cust.created_day < b) & (churn_day > a) & ~cust.prospect
    d = np.minimum(st.dissatisfaction(), 4.0)
    pr = (0.006 + 0.012 * d / 4 + 0.004 * (cust.temper > 1)) * (b - a) / 30.4
    c = np.flatnonzero(alive & (rng.random(n) < pr))
    lo = np.maximum(a, cust.created_day[c])
    opened = (lo + rng.random(c.size) * (b - lo)).astype(int)
    cat = rng.choice([2, 3, 4], c.size, p=[0.45, 0.35, 0.2])
    parts.append((c, opened, cat, rng.choice(3, c.size, p=[0.5, 0.35, 0.15])))
    c, opened, cat, sev = (np.concatenate(x) for x in zip(*parts))
    ok = opened <= span - 1
    c, opened, cat, sev = c[ok], opened[ok].astype(int), cat[ok], sev[ok]
    out.complaints.append((c, opened, cat, sev, _resolution(rng, opened, sev, span)))
    ev["complaint_c"], ev["complaint_cat"] = c, cat


def _update_and_churn(rng, cust, st, ev, churn_day, start_day, a, b, out):
    """Fold the month into the experience stocks, run surveys, then the churn hazard."""
    n = churn_day.size
    cnt = lambda idx, w=None: np.bincount(idx, weights=w, minlength=n)  # noqa: E731
    late_c = ev["c_idx"][ev["late"]]
    delay_c = np.minimum(ev["delay"][ev["late"]], 14)
    st.late = DECAY * st.late + cnt(late_c) * 0.5 + 0.1 * cnt(late_c, delay_c)
    st.quality = DECAY * st.quality + cnt(ev["problem_c"])
    st.complaints = DECAY * st.complaints + cnt(ev["complaint_c"])
    st.service = DECAY * st.service + cnt(ev["complaint_c"][ev["complaint_cat"] == 2])
    st.price = DECAY * st.price + cnt(ev["complaint_c"][ev["complaint_cat"] == 3])
    d = st.dissatisfaction()
    alive = (start_day < b) & (churn_day > b) & ~cust.prospect
    # surveys: some every month, more often after a complaint
    had = cnt(ev["complaint_c"]) > 0
    sv = np.flatnonzero(alive & (rng.random(n) < np.where(had, 0.4, 0.15)))
    lo = np.maximum(a, start_day[sv])
    day = (lo + rng.random(sv.size) * (b - lo)).astype(int)
    m = sv.size
    h = -0.6 * cust.temper[sv] - 0.6 * np.minimum(d[sv], 5) + rng.normal(0, 0.6, m)
    score = lambda base, x, sd: np.clip(np.round(base + x + rng.normal(0, sd, m)), 1, 5)  # noqa
    out.surveys.append((
        sv, day,
        np.clip(np.round(4.0 + 0.9 * h), 1, 5),
        np.clip(np.round(8.0 + 1.6 * h + rng.normal(0, 0.8, m)), 0, 10),
        score(4.2, -0.8 * np.minimum(st.quality[sv], 3) + 0.2 * h, 0.5),
        score(4.2, -0.6 * np.minimum(st.late[sv], 4) + 0.2 * h, 0.5),
        score(4.0, -0.8 * np.minimum(st.service[sv], 3) + 0.3 * h, 0.5),
        score(3.2, 12 * cust.discount[sv] - 0.8 * np.minimum(st.price[sv], 3), 0.6),
    ))
    # the hazard: unhappy, hot-tempered, small and new customers leave more often
    tenure_years = np.maximum(b - cust.created_day, 0) / 365.25
    logit = (HAZARD_BASE + HAZARD_DISSATISFACTION * np.minimum(d, 5)
             + HAZARD_TEMPER * cust.temper + np.array(HAZARD_TIER)[cust.tier_rank]
             + HAZARD_TENURE * np.log1p(tenure_years))
    p = 1 - (1 - 1 / (1 + np.exp(-logit))) ** ((b - a) / 30.4)
    leave = alive & (cust.created_day < a) & (rng.random(n) < p)
    churn_day[leave] = b + rng.uniform(0, 30, leave.sum())


def _frames(out: _Out) -> dict[str, tuple]:
    """Concatenate the per-month pieces into column arrays."""
    def cat(parts):
        return tuple(np.concatenate(x) for x in zip(*parts))

    return {"orders": cat(out.orders), "returns": cat(out.returns),
            "complaints": cat(out.complaints), "surveys": cat(out.surveys)}
