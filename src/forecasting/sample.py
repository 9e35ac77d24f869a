"""Seeded sample data in the data contract (first simple version; realism comes next).

Example:
    >>> from forecasting.sample import generate
    >>> data = generate(customers=50, products=10, seed=1)
    >>> sorted(data.tables())[:3]
    ['complaints', 'customers', 'inventory']
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting import schema as s
from forecasting.dataset import Dataset
from forecasting.errors import ForecastingError

log = logging.getLogger("forecasting.sample")

REGIONS = ("north", "south", "east", "west", "central")
INDUSTRIES = ("automotive", "construction", "food", "retail", "electronics", "chemicals")
PRODUCT_CATEGORIES = ("components", "tools", "packaging", "materials", "spares")


def generate(customers: int = 2000, products: int = 100, start: str = "2023-01-01",
             end: str = "2024-12-31", seed: int = 0) -> Dataset:
    """Generate a seeded data set with every contract table."""
    rng = np.random.default_rng(seed)
    t0, t1 = pd.Timestamp(start), pd.Timestamp(end)
    if t1 <= t0:
        raise ForecastingError(f"sample: end {end} must be after start {start}")
    n_days = (t1 - t0).days + 1
    cust_ids = np.array([f"C{i:05d}" for i in range(1, customers + 1)])
    prod_ids = np.array([f"P{i:03d}" for i in range(1, products + 1)])
    cust = pd.DataFrame({
        s.CUSTOMER_ID: cust_ids,
        s.CREATED_AT: t0 - pd.to_timedelta(rng.integers(0, 700, customers), unit="D"),
        "region": rng.choice(REGIONS, customers),
        "industry": rng.choice(INDUSTRIES, customers),
        "tier": rng.choice(["A", "B", "C"], customers, p=[0.15, 0.35, 0.5]),
    })
    price = np.round(rng.lognormal(3, 0.8, products), 2)
    prod = pd.DataFrame({s.PRODUCT_ID: prod_ids,
                         s.CATEGORY: rng.choice(PRODUCT_CATEGORIES, products),
                         "unit_price": price})
    n_orders = customers * 8
    who = rng.integers(0, customers, n_orders)
    day = rng.integers(0, n_days, n_orders)
    lines = rng.integers(1, 5, n_orders)
    order_idx = np.repeat(np.arange(n_orders), lines)
    line_no = np.arange(len(order_idx)) - np.repeat(np.cumsum(lines) - lines, lines)
    weights = 1.0 / np.arange(1, products + 1) ** 1.1
    pidx = rng.choice(products, len(order_idx), p=weights / weights.sum())
    qty = rng.integers(1, 20, len(order_idx)).astype(float)
    odate = t0 + pd.to_timedelta(day[order_idx], unit="D")
    promised = odate + pd.Timedelta(days=7)
    delivered = promised + pd.to_timedelta(rng.integers(-2, 4, len(order_idx)), unit="D")
    delivered = delivered.where(delivered <= t1)
    orders = pd.DataFrame({
        s.ORDER_ID: np.char.add("O", np.char.zfill(order_idx.astype(str), 7)),
        s.LINE_NO: line_no, s.CUSTOMER_ID: cust_ids[who[order_idx]],
        s.PRODUCT_ID: prod_ids[pidx], s.ORDER_DATE: odate, s.QUANTITY: qty,
        s.AMOUNT: np.round(qty * price[pidx], 2), s.PROMISED_DATE: promised,
        s.DELIVERED_DATE: delivered, s.STATUS: s.STATUS_COMPLETED,
    })
    n_c = customers // 2
    opened = t0 + pd.to_timedelta(rng.integers(0, n_days, n_c), unit="D")
    resolved = opened + pd.to_timedelta(rng.integers(0, 20, n_c), unit="D")
    complaints = pd.DataFrame({
        s.COMPLAINT_ID: [f"K{i:06d}" for i in range(1, n_c + 1)],
        s.CUSTOMER_ID: rng.choice(cust_ids, n_c), s.OPENED_AT: opened,
        s.CATEGORY: rng.choice(s.COMPLAINT_CATEGORIES, n_c),
        s.SEVERITY: rng.choice(["low", "medium", "high"], n_c),
        s.RESOLVED_AT: resolved.where(resolved <= t1),
    })
    n_s = customers
    surveys = pd.DataFrame({
        s.CUSTOMER_ID: rng.choice(cust_ids, n_s),
        s.SURVEYED_AT: t0 + pd.to_timedelta(rng.integers(0, n_days, n_s), unit="D"),
        s.CSAT: rng.integers(1, 6, n_s).astype(float), s.NPS: rng.integers(0, 11, n_s).astype(float),
        **{d: rng.integers(1, 6, n_s).astype(float) for d in s.DIMENSIONS},
    })
    inventory = pd.DataFrame({
        s.PRODUCT_ID: prod_ids, s.ON_HAND: rng.integers(0, 500, products).astype(float),
        s.LEAD_TIME_DAYS: rng.integers(7, 60, products).astype(float),
        s.MIN_BATCH: rng.choice([10.0, 50.0, 100.0], products),
        s.UNIT_COST: np.round(price * 0.6, 2),
    })
    return Dataset(orders=orders, customers=cust, complaints=complaints, surveys=surveys,
                   inventory=inventory, products=prod)


def write(dataset: Dataset, out_dir: str | Path, fmt: str = "csv") -> dict[str, int]:
    """Write every table of ``dataset`` to ``out_dir/<table>.<fmt>``; return rows per table."""
    if fmt not in ("csv", "parquet"):
        raise ForecastingError(f"sample: format must be csv or parquet, got {fmt!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = {}
    for name, df in dataset.tables().items():
        path = out / f"{name}.{fmt}"
        if fmt == "csv":
            df.to_csv(path, index=False)
        else:
            df.to_parquet(path, index=False)
        rows[name] = len(df)
        log.info("wrote %s (%d rows)", path, len(df))
    return rows
