"""RFM scores, named segments, lifecycle stage and customer value, as of an explicit date.

One row per customer (``customer_id``, str) known on ``as_of``: every customer with a
completed order on or before ``as_of`` plus, when a ``customers`` table exists, the
prospects (customers without any completed order yet; their RFM columns are empty).

Dates: ``as_of`` is a day. Events *on* that day count (``order_date < as_of + 1 day``), so
``segments(data, "2011-12-09")`` includes the orders of 9 December. Recency is counted in
whole days between the day of the last completed order and ``as_of``.

Money: revenue is the ``amount`` of completed lines; returned lines with a negative amount
are credit notes (the Online Retail layout) and reduce it; a returned line with a positive
amount is an order that came back and counts nothing; cancelled lines count nothing.

RFM (window = ``lookback_days``, default 365, i.e. orders in ``(as_of - 365 d, as_of]``):

* ``days_since_last_order``   -- recency over the whole history (never NaN for buyers)
* ``orders_<L>d``             -- distinct completed orders in the window (0 when none)
* ``revenue_<L>d``            -- revenue in the window

Quintile scores 1-5 (5 = best: most recent, most orders, most revenue), see
:func:`quintile_scores`: customers are ordered worst to best and cut into five buckets of
equal size the way SQL ``NTILE(5)`` does (the first ``n % 5`` buckets hold one more
customer); customers with equal values then all get the *lowest* bucket any of them fell
in. The result does not depend on row order or on customer ids (ties never split), at the
price of uneven bucket sizes when many customers share a value (e.g. one order).

Segment: from the recency score ``R`` and ``FM = round_half_up((F + M) / 2)`` by the grid
:data:`SEGMENT_GRID` (every score pair has exactly one name)::

    R\\FM   1               2                   3                   4            5
    5      New             Potential loyalist  Potential loyalist  Champions    Champions
    4      Promising       Potential loyalist  Potential loyalist  Loyal        Champions
    3      About to sleep  About to sleep      Need attention      Loyal        Loyal
    2      Hibernating     Hibernating         At risk             At risk      Cannot lose
    1      Lost            Lost                At risk             Cannot lose  Cannot lose

Churn probability: from the champion churn model (:func:`forecasting.churn.score.
score_customers`, passed in by the caller) when there are scores (``churn_source = "model
v<N>"``); otherwise from
RFM rules (``churn_source = "rfm rules"``), see :func:`rfm_churn_rates`: the share of
customers of the same segment that churned over the last ``horizon_days`` of history.

Lifecycle stage, first rule that applies: ``prospect`` (no completed order), ``churned``
(no completed order in the last ``churned_after_days``, default = ``lookback_days``),
``new`` (first completed order in the last ``new_days``, default 90), ``at risk`` (churn
probability >= ``at_risk_probability``, default 0.5), else ``active``.

Value (in the currency of ``amount``):

* ``revenue_to_date``          -- all revenue up to ``as_of``
* ``revenue_if_retained_12m``  -- the window's revenue scaled to 365 days (run rate)
* ``expected_revenue_12m``     -- ``revenue_if_retained_12m * (1 - churn_probability)``
* ``value_at_risk_12m``        -- ``churn_probability * revenue_if_retained_12m``

Example:
    >>> import pandas as pd
    >>> from forecasting.dataset import Dataset
    >>> orders = pd.DataFrame({"order_id": ["1", "2", "3"], "customer_id": ["a", "a", "b"],
    ...     "product_id": "p", "order_date": pd.to_datetime(["2024-01-05", "2024-03-01",
    ...     "2023-06-01"]), "quantity": 1.0, "amount": [10.0, 20.0, 5.0],
    ...     "status": "completed"})
    >>> rfm = rfm_table(orders, "2024-03-31")
    >>> rfm["days_since_last_order"].to_dict(), rfm["orders_365d"].to_dict()
    ({'a': 30, 'b': 304}, {'a': 2, 'b': 1})
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.cutoff import Cutoff
from forecasting.labels import churned, completed
from forecasting.settings import DEFAULT_CHURN_HORIZON_DAYS, DEFAULT_LOOKBACK_DAYS
from forecasting.dataset import Dataset
from forecasting.schema import (
    AMOUNT, CUSTOMER_ID, ORDER_DATE, ORDER_ID, STATUS, STATUS_COMPLETED, STATUS_RETURNED,
)

log = logging.getLogger(__name__)

SEGMENTS = ("Champions", "Loyal", "Potential loyalist", "New", "Promising", "Need attention",
            "About to sleep", "At risk", "Cannot lose", "Hibernating", "Lost")

# SEGMENT_GRID[R][FM] -> name (R and FM are 1..5; row 0 and column 0 unused)
_GRID_ROWS = {
    5: ("New", "Potential loyalist", "Potential loyalist", "Champions", "Champions"),
    4: ("Promising", "Potential loyalist", "Potential loyalist", "Loyal", "Champions"),
    3: ("About to sleep", "About to sleep", "Need attention", "Loyal", "Loyal"),
    2: ("Hibernating", "Hibernating", "At risk", "At risk", "Cannot lose"),
    1: ("Lost", "Lost", "At risk", "Cannot lose", "Cannot lose"),
}
SEGMENT_GRID: dict[tuple[int, int], str] = {
    (r, fm): name for r, row in _GRID_ROWS.items() for fm, name in enumerate(row, start=1)}

STAGES = ("prospect", "new", "active", "at risk", "churned")
CHURN_SOURCE_RULES = "rfm rules"

# used only when the data holds too little history to measure churn rates (documented in
# rfm_churn_rates): churn probability by recency score
FALLBACK_CHURN_BY_R = {1: 0.8, 2: 0.6, 3: 0.4, 4: 0.25, 5: 0.15}


@dataclass(frozen=True)
class SegmentConfig:
    """Windows and thresholds of :func:`segments` (days)."""

    lookback_days: int = DEFAULT_LOOKBACK_DAYS
    horizon_days: int = DEFAULT_CHURN_HORIZON_DAYS
    new_days: int = 90
    churned_after_days: int | None = None  # None: lookback_days
    at_risk_probability: float = 0.5
    min_customers_per_rate: int = 20


def day_end(as_of) -> pd.Timestamp:
    """Midnight after the day of ``as_of``: events before it are "on or before as_of".

    Same convention as :func:`forecasting.cutoff.as_of_instant` (a date means its whole day).
    """
    return Cutoff.of(as_of).next_day


def revenue_lines(orders: pd.DataFrame) -> pd.DataFrame:
    """Order lines that carry revenue, with ``amount`` as revenue (see module docstring).

    Returns completed lines and negative-amount returned lines (credit notes) of known
    customers; a new frame, the input is not modified.
    """
    status = orders[STATUS] if STATUS in orders else pd.Series(STATUS_COMPLETED, orders.index)
    keep = (status == STATUS_COMPLETED) | ((status == STATUS_RETURNED) & (orders[AMOUNT] < 0))
    keep &= orders[CUSTOMER_ID].notna()
    return orders.loc[keep, [ORDER_ID, CUSTOMER_ID, ORDER_DATE, AMOUNT]].assign(
        **{"_completed": status[keep] == STATUS_COMPLETED})


def rfm_table(orders: pd.DataFrame, as_of, lookback_days: int = DEFAULT_LOOKBACK_DAYS) -> pd.DataFrame:
    """Recency, frequency, monetary value and revenue to date per buying customer.

    Indexed by ``customer_id``; one row per customer with a completed order on or before
    ``as_of``. Columns: ``first_order_date``, ``last_order_date``, ``days_since_last_order``,
    ``days_since_first_order``, ``orders_<L>d``, ``revenue_<L>d``, ``revenue_to_date``
    (``L`` = ``lookback_days``).
    """
    c = Cutoff.of(as_of)
    lines = revenue_lines(orders)
    lines = lines[lines[ORDER_DATE] <= c.instant]
    done = lines[lines["_completed"]]
    as_of_day = c.day
    window = c.trailing(lookback_days)
    g = done.groupby(CUSTOMER_ID, sort=True)[ORDER_DATE]
    out = pd.DataFrame({"first_order_date": g.min(), "last_order_date": g.max()})
    out.index.name = CUSTOMER_ID
    out["days_since_last_order"] = (as_of_day - out["last_order_date"].dt.normalize()).dt.days
    out["days_since_first_order"] = (as_of_day - out["first_order_date"].dt.normalize()).dt.days
    in_window = done[window.contains(done[ORDER_DATE])]
    freq_col, rev_col = f"orders_{lookback_days}d", f"revenue_{lookback_days}d"
    out[freq_col] = in_window.groupby(CUSTOMER_ID)[ORDER_ID].nunique().reindex(
        out.index, fill_value=0).astype(int)
    window_lines = lines[window.contains(lines[ORDER_DATE])]
    out[rev_col] = window_lines.groupby(CUSTOMER_ID)[AMOUNT].sum().reindex(
        out.index, fill_value=0.0).astype(float)
    out["revenue_to_date"] = lines.groupby(CUSTOMER_ID)[AMOUNT].sum().reindex(
        out.index, fill_value=0.0).astype(float)
    return out


def ntile(n: int, buckets: int = 5) -> np.ndarray:
    """SQL ``NTILE(buckets)`` of positions ``0..n-1``: 1-based bucket per position.

    The first ``n % buckets`` buckets hold ``n // buckets + 1`` positions, the rest
    ``n // buckets``.
    """
    q, r = divmod(n, buckets)
    pos = np.arange(n)
    big = r * (q + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        tail = r + (pos - big) // max(q, 1)
    return np.where(pos < big, pos // (q + 1), tail).astype(int) + 1


def quintile_scores(values: pd.Series, higher_is_better: bool = True) -> pd.Series:
    """Scores 1-5 by quintile; equal values share the lowest score of their group.

    Customers are sorted worst to best (ascending values when ``higher_is_better``), cut
    into 5 buckets as SQL ``NTILE(5)`` does, then every customer takes the minimum bucket
    of the customers with the same value. Independent of row order; NaN is not allowed.
    The same as :func:`apply_cut_points` with :func:`quintile_cut_points` of ``values``
    (the Spark engine computes the cut points once over all customers, then applies them).
    """
    return apply_cut_points(values, quintile_cut_points(values, higher_is_better),
                            higher_is_better)


def _score_key(values: pd.Series, higher_is_better: bool) -> np.ndarray:
    if values.isna().any():
        raise ValueError("quintile_scores: values contain NaN")
    key = values.to_numpy(dtype=float)
    return key if higher_is_better else -key


def quintile_cut_points(values: pd.Series, higher_is_better: bool = True) -> np.ndarray:
    """The four cut points of :func:`quintile_scores` over ``values`` (see
    :func:`cut_points_from_counts`)."""
    keys, counts = np.unique(_score_key(values, higher_is_better), return_counts=True)
    return cut_points_from_counts(keys, counts)


def cut_points_from_counts(keys: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Cut points from the distinct sort keys (ascending) and how many customers have each.

    With the keys of all ``n`` customers sorted, bucket ``b`` (2..5) of ``NTILE(5)`` starts at
    position ``p_b``; its cut point is the key at position ``p_b - 1``. A customer's score is 1
    + the number of cut points strictly below its key, i.e. the bucket of the first customer
    with the same key (ties share the lowest score). A bucket that ``n < 5`` leaves empty gets
    the largest key, which no key exceeds.
    """
    n = int(np.sum(counts))
    if n == 0:
        return np.full(4, np.inf)
    first_bucket = ntile(n)
    starts = np.searchsorted(first_bucket, np.arange(2, 6), side="left")  # p_2 .. p_5
    ends = np.cumsum(counts)  # position after the last customer of each key
    return np.asarray(keys, dtype=float)[np.searchsorted(ends, starts - 1, side="right")]


def apply_cut_points(values: pd.Series, cuts: np.ndarray,
                     higher_is_better: bool = True) -> pd.Series:
    """Scores 1-5 of ``values`` from cut points of :func:`quintile_cut_points`."""
    if values.empty:
        return pd.Series([], index=values.index, dtype=int)
    key = _score_key(values, higher_is_better)
    out = np.searchsorted(np.asarray(cuts, dtype=float), key, side="left") + 1
    return pd.Series(out.astype(int), index=values.index, name=values.name)


def name_segments(r: pd.Series, f: pd.Series, m: pd.Series) -> pd.Series:
    """Segment names from R, F, M scores via :data:`SEGMENT_GRID` (FM rounds half up)."""
    fm = (f + m + 1) // 2
    names = [SEGMENT_GRID[(int(a), int(b))] for a, b in zip(r, fm)]
    return pd.Series(names, index=r.index, name="segment", dtype=object)


def rfm_segments(orders: pd.DataFrame, as_of, lookback_days: int = DEFAULT_LOOKBACK_DAYS) -> pd.DataFrame:
    """:func:`rfm_table` plus ``r_score``, ``f_score``, ``m_score``, ``rfm_score`` and
    ``segment`` for every buying customer."""
    rfm = rfm_table(orders, as_of, lookback_days)
    return add_rfm_scores(rfm, rfm_cut_points(rfm, lookback_days), lookback_days)


def rfm_score_columns(lookback_days: int) -> dict[str, tuple[str, bool]]:
    """Score column -> (the value it scores, whether higher is better)."""
    return {"r_score": ("days_since_last_order", False),
            "f_score": (f"orders_{lookback_days}d", True),
            "m_score": (f"revenue_{lookback_days}d", True)}


def rfm_cut_points(rfm: pd.DataFrame, lookback_days: int) -> dict[str, np.ndarray]:
    """The quintile cut points of each RFM score over the customers of ``rfm``."""
    return {score: quintile_cut_points(rfm[col], better)
            for score, (col, better) in rfm_score_columns(lookback_days).items()}


def add_rfm_scores(rfm: pd.DataFrame, cuts: dict[str, np.ndarray],
                   lookback_days: int) -> pd.DataFrame:
    """``rfm`` with the scores given by ``cuts`` (:func:`rfm_cut_points`), ``rfm_score`` and
    ``segment``; a new frame."""
    rfm = rfm.copy()
    for score, (col, better) in rfm_score_columns(lookback_days).items():
        rfm[score] = apply_cut_points(rfm[col], cuts[score], better)
    rfm["rfm_score"] = (rfm["r_score"].astype(str) + rfm["f_score"].astype(str)
                        + rfm["m_score"].astype(str))
    rfm["segment"] = name_segments(rfm["r_score"], rfm["f_score"], rfm["m_score"])
    return rfm


def rfm_churn_rates(orders: pd.DataFrame, as_of, cfg: SegmentConfig = SegmentConfig(),
                    ) -> tuple[dict[str, float], dict[int, float], float | None]:
    """Churn rates measured in the data: by segment, by recency score and overall.

    The cutoff ``c = as_of - horizon_days``: customers active at ``c`` are segmented as of
    ``c`` and labelled by :func:`forecasting.labels.churned` (the one churn definition: no
    completed order in ``(c, as_of]``). A segment's rate is used
    when it has at least ``min_customers_per_rate`` customers, else the rate of its recency
    score, else the overall rate. Returns ``({}, {}, None)`` when fewer than
    ``min_customers_per_rate`` customers were active at ``c``: then
    :data:`FALLBACK_CHURN_BY_R` applies.
    """
    start = Cutoff.of(as_of).minus(cfg.horizon_days)
    at_c, labels = churn_at(orders, start, cfg)
    if len(labels) < cfg.min_customers_per_rate:
        return {}, {}, None
    counts = churn_counts(at_c["segment"], at_c["r_score"], labels.astype(float))
    return churn_rates_from_counts(counts, cfg.min_customers_per_rate)


def churn_at(orders: pd.DataFrame, start, cfg: SegmentConfig) -> tuple[pd.DataFrame, pd.Series]:
    """(segments as of ``start`` of the customers active then, their churn label over the
    ``horizon_days`` after it) by the one churn definition, :func:`forecasting.labels.churned`."""
    labels = churned(completed(orders), start, cfg.horizon_days, cfg.lookback_days)
    return rfm_segments(orders, start, cfg.lookback_days).reindex(labels.index), labels


def churn_counts(segment: pd.Series, r_score: pd.Series, churned: pd.Series) -> pd.DataFrame:
    """Customers and churned customers per (segment, r_score): what
    :func:`churn_rates_from_counts` needs (the Spark engine sums it over buckets)."""
    frame = pd.DataFrame({"segment": segment, "r_score": r_score, "churned": churned})
    return frame.groupby(["segment", "r_score"], as_index=False).agg(
        customers=("churned", "size"), churned=("churned", "sum"))


def churn_rates_from_counts(counts: pd.DataFrame, min_customers: int,
                            ) -> tuple[dict[str, float], dict[int, float], float | None]:
    """Churn rates by segment, by recency score and overall from :func:`churn_counts`
    (a rate needs ``min_customers``; see :func:`rfm_churn_rates`)."""
    if counts["customers"].sum() < min_customers:
        return {}, {}, None
    by_seg = counts.groupby("segment")[["churned", "customers"]].sum()
    by_r = counts.groupby("r_score")[["churned", "customers"]].sum()
    rate = lambda t: t["churned"] / t["customers"]  # noqa: E731
    return ({k: float(v) for k, v in rate(by_seg)[by_seg["customers"] >= min_customers].items()},
            {int(k): float(v) for k, v in rate(by_r)[by_r["customers"] >= min_customers].items()},
            float(counts["churned"].sum() / counts["customers"].sum()))


def rule_churn_probability(rfm: pd.DataFrame, orders: pd.DataFrame, as_of,
                           cfg: SegmentConfig = SegmentConfig()) -> pd.Series:
    """Churn probability per customer of ``rfm`` from :func:`rfm_churn_rates`."""
    return rates_probability(rfm, rfm_churn_rates(orders, as_of, cfg), as_of)


def rates_probability(rfm: pd.DataFrame, rates, as_of) -> pd.Series:
    """Churn probability per customer of ``rfm`` from the rates of :func:`rfm_churn_rates`."""
    by_seg, by_r, overall = rates
    if overall is None:
        log.info("too little history before %s to measure churn rates; using the fixed "
                 "rates by recency score %s", as_of, FALLBACK_CHURN_BY_R)
        return rfm["r_score"].map(FALLBACK_CHURN_BY_R).astype(float)
    p = rfm["segment"].map(by_seg)
    p = p.fillna(rfm["r_score"].map(by_r)).fillna(overall)
    return p.astype(float)


def model_scores(scored: pd.DataFrame | None) -> pd.DataFrame | None:
    """Churn model scores (the output of :func:`forecasting.churn.score.score_customers`)
    indexed by customer_id, or None. Columns ``churn_probability``, ``risk_band``,
    ``reasons`` (text), ``churn_source``.
    """
    if scored is None:
        return None
    scored = scored.copy()
    scored[CUSTOMER_ID] = scored[CUSTOMER_ID].astype(str)
    scored = scored.set_index(CUSTOMER_ID)
    if "reasons" in scored:
        scored["reasons"] = scored["reasons"].map(reasons_text)
    versions = scored.get("model_version", pd.Series("?", index=scored.index))
    scored["churn_source"] = "model v" + versions.astype(str)
    cols = [c for c in ("churn_probability", "risk_band", "reasons", "churn_source")
            if c in scored]
    return scored[cols]


def reasons_text(value) -> str:
    """Reasons as one ``"; "``-separated string.

    Accepts a string, or a list/array of strings or of dicts with a ``"text"`` key (what
    :func:`forecasting.churn.score.score_customers` returns).
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, str):
        return value
    try:
        items = list(value)
    except TypeError:
        return str(value)
    return "; ".join(str(v.get("text", v)) if isinstance(v, dict) else str(v) for v in items)


def _lifecycle(rfm: pd.DataFrame, p: pd.Series, cfg: SegmentConfig) -> pd.Series:
    churned_after = cfg.churned_after_days or cfg.lookback_days
    stage = np.select(
        [rfm["days_since_last_order"] >= churned_after,
         rfm["days_since_first_order"] < cfg.new_days,
         p >= cfg.at_risk_probability],
        ["churned", "new", "at risk"], default="active")
    return pd.Series(stage, index=rfm.index, dtype=object)


def segments(data: Dataset, as_of, cfg: SegmentConfig = SegmentConfig(),
             churn_scores: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per customer as of ``as_of``: RFM, segment, stage, churn probability, value.

    Columns: ``customer_id``, the :func:`rfm_segments` columns, ``churn_probability``,
    ``churn_source`` (``"model v<N>"`` or ``"rfm rules"``), ``lifecycle_stage``,
    ``revenue_to_date``, ``revenue_if_retained_12m``, ``expected_revenue_12m``,
    ``value_at_risk_12m`` and, from the model when there is one, ``risk_band`` and
    ``reasons``. Sorted by ``value_at_risk_12m`` (largest first), then ``customer_id``.

    ``churn_scores`` are the churn model's scores for the same ``as_of`` (from
    :func:`forecasting.churn.score.score_customers`; the caller fetches them); customers
    without one, or every customer when there are none, get the RFM rules' probability.
    """
    end = day_end(as_of)
    rfm = rfm_segments(data.orders, as_of, cfg.lookback_days)
    rates = rfm_churn_rates(data.orders, as_of, cfg)
    out = customer_value(rfm, rates, model_scores(churn_scores), as_of, cfg).reset_index()
    prospects = prospects_of(data, out[CUSTOMER_ID], end)
    if len(prospects):
        out = pd.concat([out, prospects], ignore_index=True)
    out[segment_int_columns(cfg)] = out[segment_int_columns(cfg)].astype("Int64")
    out = out.sort_values(["value_at_risk_12m", CUSTOMER_ID], ascending=[False, True],
                          na_position="last", kind="stable").reset_index(drop=True)
    log.info("segmented %d customers as of %s (%d prospects)", len(out),
             (end - pd.Timedelta(days=1)).date(), len(prospects))
    return out


def segment_int_columns(cfg: SegmentConfig) -> list[str]:
    """Whole-number columns of :func:`segments`, empty (not 0) for prospects."""
    return ["days_since_last_order", "days_since_first_order", f"orders_{cfg.lookback_days}d",
            "r_score", "f_score", "m_score"]


def customer_value(rfm: pd.DataFrame, rates, scored: pd.DataFrame | None, as_of,
                   cfg: SegmentConfig = SegmentConfig()) -> pd.DataFrame:
    """Per buying customer of ``rfm`` (:func:`rfm_segments`): churn probability (the model's
    ``scored`` rows of :func:`model_scores` where present, else the RFM ``rates`` of
    :func:`rfm_churn_rates`), its source, lifecycle stage and value columns. A new frame."""
    rfm = rfm.copy()
    rules = rates_probability(rfm, rates, as_of)
    p = rules.copy()
    source = pd.Series(CHURN_SOURCE_RULES, index=rfm.index, dtype=object)
    if scored is not None and "churn_probability" in scored:
        hit = scored["churn_probability"].reindex(rfm.index)
        source = source.where(hit.isna(), scored["churn_source"].reindex(rfm.index))
        p = hit.fillna(rules).astype(float)
        for col in ("risk_band", "reasons"):
            if col in scored:
                rfm[col] = scored[col].reindex(rfm.index)
    else:
        log.info("churn probabilities from RFM rules (historical churn rate by segment)")
    rfm["churn_probability"] = p.clip(0.0, 1.0)
    rfm["churn_source"] = source
    rfm["lifecycle_stage"] = _lifecycle(rfm, rfm["churn_probability"], cfg)
    rev_window = rfm[f"revenue_{cfg.lookback_days}d"].clip(lower=0.0)
    rfm["revenue_if_retained_12m"] = rev_window * 365.0 / cfg.lookback_days
    rfm["expected_revenue_12m"] = rfm["revenue_if_retained_12m"] * (1 - rfm["churn_probability"])
    rfm["value_at_risk_12m"] = rfm["revenue_if_retained_12m"] * rfm["churn_probability"]
    return rfm


def prospects_of(data: Dataset, buyers: pd.Series, end: pd.Timestamp) -> pd.DataFrame:
    """Customers of the customers table with no completed order before ``end``."""
    if data.customers is None or CUSTOMER_ID not in data.customers:
        return pd.DataFrame()
    ids = data.customers[CUSTOMER_ID].dropna().astype(str)
    if "created_at" in data.customers:
        created = data.customers["created_at"]
        ids = ids[created.isna() | (created < end)]
    ids = pd.Index(ids.unique()).difference(pd.Index(buyers))
    return pd.DataFrame({CUSTOMER_ID: ids, "lifecycle_stage": "prospect",
                         "revenue_to_date": 0.0, "revenue_if_retained_12m": 0.0,
                         "expected_revenue_12m": 0.0, "value_at_risk_12m": 0.0})
