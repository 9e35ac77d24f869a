"""Who and what the sample data set is about: customers, products and their hidden traits.

Hidden traits (purchase rhythm, basket size, lateness, temper, product defect rate, ...) drive
the simulation in :mod:`forecasting.sample._simulate`; only the observable attributes end up
in the tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting import schema as s

REGIONS = ("north", "south", "east", "west", "central")
# share of orders delivered late per region: some regions are served worse than others
REGION_LATE_SHARE = (0.06, 0.10, 0.08, 0.22, 0.12)
REGION_WEIGHTS = (0.25, 0.2, 0.2, 0.15, 0.2)
INDUSTRIES = ("automotive", "construction", "food", "retail", "electronics", "chemicals")
INDUSTRY_WEIGHTS = (0.22, 0.18, 0.15, 0.2, 0.15, 0.1)
PRODUCT_CATEGORIES = ("components", "tools", "packaging", "materials", "spares")
TIERS = ("A", "B", "C")
N_FAVOURITES = 6


@dataclass
class Customers:
    """Customer table plus hidden per-customer traits (arrays aligned with the table)."""

    table: pd.DataFrame
    created_day: np.ndarray      # days since start (negative = signed up before start)
    prospect: np.ndarray         # bool: never orders
    gap_mean_days: np.ndarray    # own mean gap between orders
    lines_mean: np.ndarray       # mean lines per order
    qty_scale: np.ndarray        # typical units per line
    discount: np.ndarray         # share off the list price
    late_share: np.ndarray       # chance that an order arrives late
    temper: np.ndarray           # N(0, 1): higher = quicker to be unhappy and to leave
    tier_rank: np.ndarray        # 0 = A, 1 = B, 2 = C
    favourites: np.ndarray       # (n, N_FAVOURITES) product indices they usually buy


@dataclass
class Products:
    """Product table plus hidden per-product traits."""

    table: pd.DataFrame
    unit_price: np.ndarray
    popularity: np.ndarray       # Zipf-like probabilities, sum to 1
    defect_rate: np.ndarray      # chance that a delivered line has a quality problem
    promise_days: np.ndarray     # promised lead time to the customer
    season_amp: np.ndarray       # yearly seasonality amplitude of the product's category
    season_peak_doy: np.ndarray  # day of year of the category's peak
    growth: np.ndarray | None = None  # yearly growth of units per line (demand profile)


LINE_SIGMA = 0.25  # lognormal spread of units per line around the customer's scale


def demand_profile(rng: np.random.Generator, products: Products) -> Products:
    """Clear yearly seasonality and trend per product, drawn from the *demand* stream ``rng``
    (separate from the main one, so customers' order timing and churn do not move): each
    category's amplitude 30-60 % (times 0.8-1.2 per product, peak as drawn for the category),
    and a growth of units per line of 10 % +- 10 % a year."""
    n = len(products.unit_price)
    codes, cats = pd.factorize(products.table[s.CATEGORY])
    cat_amp = rng.uniform(0.3, 0.6, len(cats))
    products.season_amp = np.clip(cat_amp[codes] * rng.uniform(0.8, 1.2, n), 0.0, 0.9)
    products.growth = rng.normal(0.10, 0.10, n)
    return products


def make_products(rng: np.random.Generator, n: int) -> Products:
    ids = np.array([f"P{i:03d}" for i in range(1, n + 1)])
    cat_idx = rng.integers(0, len(PRODUCT_CATEGORIES), n)
    cat_price = np.array([25.0, 60.0, 8.0, 15.0, 40.0])
    price = np.round(cat_price[cat_idx] * rng.lognormal(0.0, 0.5, n), 2).clip(0.5)
    rank = rng.permutation(n) + 1
    pop = 1.0 / rank ** 1.15
    pop /= pop.sum()
    # most products are fine, a few have a real quality problem
    defect = np.where(rng.random(n) < 0.12, rng.uniform(0.05, 0.12, n), rng.uniform(0.003, 0.02, n))
    cat_amp = rng.uniform(0.05, 0.35, len(PRODUCT_CATEGORIES))
    cat_peak = rng.integers(0, 365, len(PRODUCT_CATEGORIES))
    table = pd.DataFrame({
        s.PRODUCT_ID: ids,
        s.CATEGORY: np.array(PRODUCT_CATEGORIES)[cat_idx],
        "unit_price": price,
    })
    return Products(table=table, unit_price=price, popularity=pop, defect_rate=defect,
                    promise_days=rng.choice([3, 5, 7, 10, 14, 21], n),
                    season_amp=cat_amp[cat_idx], season_peak_doy=cat_peak[cat_idx])


def make_customers(rng: np.random.Generator, n: int, products: Products,
                   t0: pd.Timestamp, span_days: int) -> Customers:
    size = rng.lognormal(0.0, 0.8, n)
    q = np.argsort(np.argsort(-size)) / max(n, 1)          # 0 = largest
    tier_rank = np.where(q < 0.15, 0, np.where(q < 0.5, 1, 2))
    # 60% were customers before the data starts (up to 6 years), the rest sign up during it
    before = rng.random(n) < 0.6
    created = np.where(before, -rng.integers(1, 6 * 365, n),
                       rng.integers(0, max(span_days - 30, 1), n))
    order = np.argsort(created, kind="stable")              # ids follow signup order
    created = created[order]
    size, tier_rank, before = size[order], tier_rank[order], before[order]
    region = rng.choice(len(REGIONS), n, p=REGION_WEIGHTS)
    late = np.array(REGION_LATE_SHARE)[region] * rng.lognormal(0.0, 0.6, n)
    fav = rng.choice(len(products.popularity), (n, N_FAVOURITES), p=products.popularity)
    table = pd.DataFrame({
        s.CUSTOMER_ID: np.array([f"C{i:05d}" for i in range(1, n + 1)]),
        s.CREATED_AT: t0 + pd.to_timedelta(created, unit="D"),
        "region": np.array(REGIONS)[region],
        "industry": rng.choice(INDUSTRIES, n, p=INDUSTRY_WEIGHTS),
        "tier": np.array(TIERS)[tier_rank],
    })
    return Customers(
        table=table,
        created_day=created,
        prospect=rng.random(n) < 0.05,
        gap_mean_days=np.clip(rng.lognormal(np.log(42.0), 0.5, n) / size ** 0.3, 5, 240),
        lines_mean=1.0 + 0.6 * size ** 0.4 * rng.uniform(0.5, 1.5, n),
        qty_scale=np.clip(6.0 * size ** 0.6 * rng.lognormal(0.0, 0.4, n), 1, 500),
        discount=np.clip(np.array([0.08, 0.04, 0.01])[tier_rank] + rng.normal(0, 0.01, n), 0, 0.2),
        late_share=np.clip(late, 0.01, 0.6),
        temper=rng.normal(0.0, 1.0, n),
        tier_rank=tier_rank,
        favourites=fav,
    )


def make_inventory(rng: np.random.Generator, products: Products,
                   units_per_day: np.ndarray) -> pd.DataFrame:
    """Stock per product: about a month of demand, some overstocked, some at zero."""
    n = len(products.unit_price)
    cover_days = rng.uniform(10, 60, n)
    u = rng.random(n)
    cover_days = np.where(u < 0.1, 0.0, np.where(u > 0.9, rng.uniform(150, 400, n), cover_days))
    lead = rng.choice([7, 14, 21, 28, 42, 60], n).astype(float)
    batch = rng.choice([10, 25, 50, 100, 250, 500], n).astype(float)
    return pd.DataFrame({
        s.PRODUCT_ID: products.table[s.PRODUCT_ID].to_numpy(),
        s.ON_HAND: np.round(units_per_day * cover_days),
        s.LEAD_TIME_DAYS: lead,
        s.MIN_BATCH: batch,
        s.UNIT_COST: np.round(products.unit_price * rng.uniform(0.45, 0.75, n), 2),
    })
