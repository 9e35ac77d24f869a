"""Seeded, realistic sample data in the data contract: the embedded default for demo and tests.

How the data are generated (the demo's figures depend on it):

* **Products** (``P001`` ...): five categories with their own price level; popularity follows a
  Zipf-like law (weight ~ 1 / rank^1.15), so a few products sell every day and most have
  intermittent demand. Each category has its own clear yearly seasonality (amplitude
  30-60 %, times 0.8-1.2 per product, its own peak) and each product a growth of units per
  line (10 % +- 10 % a year); these come from a separate random stream derived from the seed,
  so order timing and churn do not depend on them. About 12 % of products have a real quality
  problem (5-12 % of delivered lines defective, against 0.3-2 % for the others).
* **Customers** (``C00001`` ..., numbered in signup order): a latent size (lognormal) sets the
  tier (A = largest 15 %, B = next 35 %, C = the rest), the basket (lines per order, units per
  line) and the discount (A about 8 %, B 4 %, C 1 %). 60 % signed up before the data start
  (up to six years earlier), the rest during it. Each customer has a region (``west`` is served
  worst, ``north`` best), an industry, a personal share of late deliveries (region level times
  a lognormal factor), a temper (how quickly they get unhappy and leave) and six usual products
  (70 % of lines). About 5 % are prospects who never order.
* **Orders**: each customer orders on their own rhythm, a renewal process whose gaps are gamma
  distributed (shape 4, so fairly regular) around a personal mean gap (median about 40 days,
  5-240, shorter for larger customers). The rate follows yearly seasonality (+-15 %, peak in April)
  and an 8 %-a-year trend, and slows by up to 2.2x when the customer is dissatisfied. 90 % of
  weekend orders move to Friday or Monday. Lines = 1 + Poisson; units per line = the customer's
  scale x lognormal (sd 0.25) x the product's season x its growth; amount = units x unit
  price x (1 - discount).
  Order ids ``O0000001`` ... follow the order date; ``line_no`` counts from 0.
* **Shipments**: promised date = order date + the longest lead time of the order's products
  (3-21 days). An order is late with the customer's late share; the delay is 1 + a lognormal
  number of days (median about 2.5, right-skewed tail); on-time orders arrive 0-2 days early
  (never before the order date). ``delivered_date`` is empty for cancelled orders (2 %) and
  orders not yet delivered at ``end``.
* **Quality and returns**: a delivered line is defective with its product's defect rate; 60 % of
  defective lines (and 0.3 % of the others) come back 1-14 days after delivery as a separate
  return order ``R0000001`` ... with status ``returned`` and negative quantity and amount.
* **Complaints** (``K000001`` ...): a late order brings a ``delivery`` complaint with chance
  8 % + 5 % per day late (severity by delay); a defective line a ``quality`` complaint with
  chance about 45 %; besides, ``service``, ``price`` and ``other`` complaints arrive at a low
  rate that doubles or triples for dissatisfied customers. Resolution takes a lognormal number
  of days (median 3, longer for higher severity); complaints not resolved by ``end`` (and 2 %
  that never are) have no ``resolved_at``.
* **Surveys**: each month 15 % of active customers answer (40 % after a complaint): csat 1-5,
  nps 0-10 and dimension scores quality, delivery, service, price 1-5. They fall with the
  customer's dissatisfaction and temper; each dimension falls with its own experience (defects,
  lateness, service complaints; price rises with the discount).
* **Dissatisfaction and churn**: experience stocks decay by 10 % a month and grow with late
  orders (0.5 + 0.1 per day late), defective lines and complaints; dissatisfaction =
  0.25 x late + 0.3 x quality + 0.8 x complaints. At each month end a customer leaves for good
  (stops ordering, complaining and answering surveys, from a day within the next month) with a
  monthly hazard logit = -4.3 + 1.6 x dissatisfaction + 0.8 x temper - 0.6 (tier A) / -0.3
  (tier B) - 0.25 x log(1 + tenure years). Temper and dissatisfaction show in the surveys,
  dissatisfaction in complaints, lateness and a slowing order rhythm, so churn is predictable
  beyond recency alone. About 22 % of the customers active in the first year leave during the
  second (19 % place no order at all in it).
* **Inventory**: stock on hand covers 10-60 days of recent demand; 10 % of products are out of
  stock, 10 % overstocked (150-400 days). Lead times 7-60 days, minimum batches 10-500, unit
  cost 45-75 % of the price.

All dates lie in ``[start, end]``; ids are strings; the same seed gives the same data.
With the defaults (2,000 customers, 100 products, two years) there are about 40,000 order
lines; ``customers=50_000`` gives about a million.

Example:
    >>> from forecasting.sample import generate
    >>> data = generate(customers=200, products=20, seed=1)
    >>> sorted(data.tables())
    ['complaints', 'customers', 'inventory', 'orders', 'products', 'surveys']
    >>> data.orders["customer_id"].isin(data.customers["customer_id"]).all()
    np.True_
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting import schema as s
from forecasting.dataset import Dataset
from forecasting.errors import ForecastingError
from forecasting.sample._population import (demand_profile, make_customers, make_inventory,
                                            make_products)
from forecasting.sample._simulate import simulate
from forecasting.io import write_table

log = logging.getLogger("forecasting.sample")

SEVERITIES = np.array(["low", "medium", "high"])
STATUSES = np.array([s.STATUS_COMPLETED, s.STATUS_RETURNED, s.STATUS_CANCELLED])
CATEGORY_CODES = np.array(["quality", "delivery", "service", "price", "other"])

__all__ = ["generate", "write"]


def _dates(t0: pd.Timestamp, days: np.ndarray) -> pd.Series:
    return pd.Series(t0 + pd.to_timedelta(np.asarray(days, dtype=float), unit="D"))


def _check_args(customers: int, products: int, t0: pd.Timestamp, t1: pd.Timestamp) -> None:
    if customers < 1 or products < 1:
        raise ForecastingError(
            f"sample: need at least 1 customer and 1 product (got customers={customers}, "
            f"products={products})")
    if t1 <= t0:
        raise ForecastingError(f"sample: end {t1.date()} must be after start {t0.date()}")
    if t1 > pd.Timestamp.now().normalize():
        raise ForecastingError(
            f"sample: end {t1.date()} lies in the future; the data contract rejects future "
            f"dates, so choose an end on or before today")


def generate(customers: int = 2000, products: int = 100, start: str = "2023-01-01",
             end: str = "2024-12-31", seed: int = 0, progress: bool = False) -> Dataset:
    """Generate a seeded data set with every contract table (see the module docstring).

    Args:
        customers: number of customers (about 5 % of them are prospects without orders).
        products: number of products.
        start, end: first and last day of the data (``YYYY-MM-DD``); ``end`` not after today.
        seed: random seed; the same arguments give the same data.
        progress: show a progress bar (stderr) over the simulated months.

    Returns:
        A :class:`Dataset` with orders, customers, complaints, surveys, inventory, products.
    """
    try:
        t0, t1 = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    except ValueError as exc:
        raise ForecastingError(f"sample: start and end must be dates (YYYY-MM-DD): {exc}") from exc
    _check_args(customers, products, t0, t1)
    span = (t1 - t0).days + 1
    rng = np.random.default_rng(seed)
    prod = make_products(rng, products)
    # product demand (seasonality, growth, units per line) from its own stream, derived from
    # the seed, so that customers' order timing and churn are those of the main stream
    demand_rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
    prod = demand_profile(demand_rng, prod)
    cust = make_customers(rng, customers, prod, t0, span)
    raw = simulate(rng, cust, prod, t0, span, progress=progress, demand_rng=demand_rng)
    cids = cust.table[s.CUSTOMER_ID].to_numpy()
    pids = prod.table[s.PRODUCT_ID].to_numpy()
    orders = _orders_table(raw["orders"], raw["returns"], cids, pids, t0)
    recent = orders[orders[s.ORDER_DATE] > t1 - pd.Timedelta(days=90)]
    per_day = (recent.groupby(s.PRODUCT_ID)[s.QUANTITY].sum().reindex(pids).fillna(0) / 90)
    data = Dataset(
        orders=orders,
        customers=cust.table,
        complaints=_complaints_table(raw["complaints"], cids, t0),
        surveys=_surveys_table(raw["surveys"], cids, t0),
        inventory=make_inventory(rng, prod, per_day.clip(lower=0).to_numpy()),
        products=prod.table,
    )
    log.debug("generated %s", {k: len(v) for k, v in data.tables().items()})
    return data


def _ids(prefix: str, n: int, width: int) -> np.ndarray:
    if n == 0:
        return np.zeros(0, dtype=f"<U{width + len(prefix)}")
    return np.char.add(prefix, np.char.zfill(np.arange(1, n + 1).astype(str), width))


def _orders_table(sold: tuple, returned: tuple, cids, pids, t0) -> pd.DataFrame:
    """Order lines with ids ``O0000001`` ... in order-date order; returns ``R0000001`` ..."""
    c, day, p, qty, amount, promised, delivered, status, seq, line_no = sold
    order = np.lexsort((line_no, seq, day))
    seq_sorted = seq[order]
    new = np.r_[True, seq_sorted[1:] != seq_sorted[:-1]]
    codes = np.cumsum(new) - 1
    rc, rday, rp, rqty, ramount = returned
    rorder = np.argsort(rday, kind="stable")
    none = np.full(rc.size, np.nan)
    return pd.DataFrame({
        s.ORDER_ID: np.r_[_ids("O", int(new.sum()), 7)[codes], _ids("R", rc.size, 7)],
        s.LINE_NO: np.r_[line_no[order], np.zeros(rc.size, int)],
        s.CUSTOMER_ID: cids[np.r_[c[order], rc[rorder]]],
        s.PRODUCT_ID: pids[np.r_[p[order], rp[rorder]]],
        s.ORDER_DATE: _dates(t0, np.r_[day[order], rday[rorder]]),
        s.QUANTITY: np.r_[qty[order], rqty[rorder]].astype(float),
        s.AMOUNT: np.r_[amount[order], ramount[rorder]].astype(float),
        s.PROMISED_DATE: _dates(t0, np.r_[promised[order], none]),
        s.DELIVERED_DATE: _dates(t0, np.r_[delivered[order], none]),
        s.STATUS: STATUSES[np.r_[status[order], np.ones(rc.size, int)]],
    }).sort_values(s.ORDER_DATE, kind="stable").reset_index(drop=True)


def _complaints_table(raw: tuple, cids, t0) -> pd.DataFrame:
    c, opened, cat, sev, resolved = raw
    order = np.lexsort((c, opened))
    return pd.DataFrame({
        s.COMPLAINT_ID: _ids("K", c.size, 6),
        s.CUSTOMER_ID: cids[c[order]],
        s.OPENED_AT: _dates(t0, opened[order]),
        s.CATEGORY: CATEGORY_CODES[cat[order]],
        s.SEVERITY: SEVERITIES[sev[order]],
        s.RESOLVED_AT: _dates(t0, resolved[order]),
    })


def _surveys_table(raw: tuple, cids, t0) -> pd.DataFrame:
    c, day, csat, nps, *dims = raw
    order = np.lexsort((c, day))
    return pd.DataFrame({
        s.CUSTOMER_ID: cids[c[order]],
        s.SURVEYED_AT: _dates(t0, day[order]),
        s.CSAT: csat[order].astype(float),
        s.NPS: nps[order].astype(float),
        **{name: v[order].astype(float) for name, v in zip(s.DIMENSIONS, dims)},
    })


def write(dataset: Dataset, out_dir: str | Path, fmt: str = "csv") -> dict[str, int]:
    """Write every table of ``dataset`` to ``out_dir/<table>.<fmt>``; return rows per table."""
    if fmt not in ("csv", "parquet"):
        raise ForecastingError(f"sample: format must be csv or parquet, got {fmt!r}")
    rows = {}
    for name, df in dataset.tables().items():
        path = write_table(df, Path(out_dir) / f"{name}.{fmt}")
        rows[name] = len(df)
        log.debug("wrote %s (%d rows)", path, len(df))
    return rows
