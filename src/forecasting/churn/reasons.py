"""Why a customer is at risk: the top features raising that customer's churn score.

Reasons come from per-row contributions (LightGBM ``pred_contrib``: each feature's share of
the row's log-odds), not from global importance. Only features that RAISE the risk are
reasons (contribution > ``min_contribution``); each is turned into a sentence a person reads
("2 quality complaints in the last 90 days", "no order for 140 days, usually every 30").

Example:
    >>> import pandas as pd
    >>> row = pd.Series({"days_since_last_order": 140.0, "order_gap_mean_days": 30.0,
    ...                  "complaints_quality_90d": 2.0})
    >>> sentence("days_since_last_order", row)
    'no order for 140 days, usually every 30'
    >>> sentence("complaints_quality_90d", row)
    '2 quality complaints in the last 90 days'
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import numpy as np
import pandas as pd

N_REASONS = 3
MIN_CONTRIBUTION = 1e-6


def _num(v) -> float | None:
    """A number to show, at the 10 significant digits the model sees (``820.5500000000001``
    and ``820.55`` from a JSON row read the same), or None."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else float(f"{f:.10g}")


def _fmt(v: float) -> str:
    """12 -> '12', 2.5 -> '2.5', 1234.5 -> '1,234'."""
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if float(v).is_integer():
        return f"{v:.0f}"
    return f"{v:.1f}"


def _plural(n: float, word: str) -> str:
    return f"{_fmt(n)} {word}{'' if n == 1 else 's'}"


def _recency(row: pd.Series) -> str:
    days = _num(row.get("days_since_last_order"))
    gap = _num(row.get("order_gap_mean_days"))
    text = f"no order for {_fmt(days)} days"
    return text + (f", usually every {gap:.0f}" if gap else "")


def _overdue(row: pd.Series) -> str:
    # the same sentence as recency: overdue = recency measured against the usual gap, and
    # equal sentences are merged into one reason
    if _num(row.get("days_since_last_order")) is None:
        return "no order on record"
    return _recency(row)


def _trend(row: pd.Series) -> str:
    t = _num(row.get("amount_trend_90d"))
    if t is None:
        return "no spend in the last 180 days"
    if t <= -0.999:
        return "no spend in the last 90 days after buying in the 90 days before"
    if t < 0:
        # (a - b) / (a + b) = t  ->  a / b = (1 + t) / (1 - t)
        return f"spend in the last 90 days down {1 - (1 + t) / (1 - t):.0%} on the 90 days before"
    return f"spend in the last 90 days up on the 90 days before (trend {t:+.2f})"


def _csat_trend(row: pd.Series) -> str:
    last, trend = _num(row.get("csat_last")), _num(row.get("csat_trend"))
    if last is not None and trend is not None and trend < 0:
        return f"satisfaction fell from {last - trend:.1f} to {last:.1f}"
    if trend is not None:
        return f"satisfaction changed by {trend:+.1f} points"
    return "no recent satisfaction trend"


def _detractor(row: pd.Series) -> str:
    nps = _num(row.get("nps_last"))
    return f"a detractor: would recommend us {nps:.0f} of 10" if nps is not None else \
        "a detractor in the last NPS survey"


def _rate(label: str) -> Callable[[pd.Series, str], str]:
    return lambda row, f: f"{label} {_num(row.get(f)):.0%}" if _num(row.get(f)) is not None \
        else f"{label} unknown"


_SPECIAL: dict[str, Callable[[pd.Series, str], str]] = {
    "days_since_last_order": lambda row, f: _recency(row),
    "order_overdue_days": lambda row, f: _overdue(row),
    "order_overdue_ratio": lambda row, f: _overdue(row),
    "amount_trend_90d": lambda row, f: _trend(row),
    "csat_trend": lambda row, f: _csat_trend(row),
    "nps_detractor": lambda row, f: _detractor(row),
    "nps_last": lambda row, f: f"would recommend us {_num(row.get(f)):.0f} of 10",
    "csat_last": lambda row, f: f"last satisfaction score {_num(row.get(f)):.1f} of 5",
    "on_time_rate_365d": _rate("on-time deliveries in the last 365 days:"),
    "return_rate_365d": _rate("returned lines in the last 365 days:"),
    "avg_order_value_365d": lambda row, f: f"average order {_fmt(_num(row.get(f)))} in the last 365 days",
    "amount_lifetime": lambda row, f: f"spend to date {_fmt(_num(row.get(f)))}",
    "orders_lifetime": lambda row, f: _plural(_num(row.get(f)), "order") + " to date",
    "tenure_days": lambda row, f: f"customer for {_fmt(_num(row.get(f)))} days",
    "order_gap_mean_days": lambda row, f: f"orders every {_num(row.get(f)):.0f} days on average",
    "order_gap_std_days": lambda row, f: f"irregular orders: gaps vary by {_num(row.get(f)):.0f} days",
    "complaints_open": lambda row, f: _plural(_num(row.get(f)), "open complaint"),
    "days_since_last_complaint": lambda row, f: f"last complaint {_fmt(_num(row.get(f)))} days ago",
    "late_open_orders": lambda row, f: _plural(_num(row.get(f)), "open order") + " past the promised date",
    "delay_mean_days_365d": lambda row, f: f"deliveries {_num(row.get(f)):.1f} days late on average in the last 365 days",
    "complaint_resolution_mean_days_365d": lambda row, f: f"complaints took {_num(row.get(f)):.0f} days to resolve on average",
    "surveys_365d": lambda row, f: _plural(_num(row.get(f)), "survey") + " answered in the last 365 days",
}

_WINDOW = re.compile(r"^(?P<what>.+?)_(?P<days>\d+)d$")


def _windowed(feature: str, row: pd.Series) -> str | None:
    m = _WINDOW.match(feature)
    if not m:
        return None
    what, days = m["what"], m["days"]
    v = _num(row.get(feature))
    when = f"in the last {days} days"
    if what == "orders":
        if v == 0:
            return f"no orders {when}"
        return f"{'only ' if v == 1 else ''}{_plural(v, 'order')} {when}"
    if what == "amount":
        return f"no spend {when}" if v == 0 else f"spend {_fmt(v)} {when}"
    if what.startswith("complaints"):
        kind = what[len("complaints"):].strip("_")
        noun = f"{kind} complaint" if kind else "complaint"
        return f"{_plural(v, noun)} {when}"
    if what.endswith("_score_mean"):
        dim = what[: -len("_score_mean")]
        return f"{dim} rated {v:.1f} of 5 on average {when}"
    if what == "csat_mean":
        return f"satisfaction {v:.1f} of 5 on average {when}"
    if what == "distinct_products":
        return f"{_plural(v, 'product')} bought {when}"
    return f"{what.replace('_', ' ')} {_fmt(v)} {when}"


_MISSING = {
    "amount_trend_90d": "no spend in the last 180 days",
    "order_gap_mean_days": "fewer than 2 order days in the last 365 days",
    "order_gap_std_days": "fewer than 3 order days in the last 365 days",
    "order_overdue_days": "no regular order rhythm yet (fewer than 2 order days in 365)",
    "order_overdue_ratio": "no regular order rhythm yet (fewer than 2 order days in 365)",
    "on_time_rate_365d": "no delivery with a promised date in the last 365 days",
    "delay_mean_days_365d": "no delivery with a promised date in the last 365 days",
    "days_since_last_complaint": "no complaint on record",
    "complaint_resolution_mean_days_365d": "no resolved complaint in the last 365 days",
    "csat_trend": "no satisfaction trend (fewer than 2 surveys in 365 days)",
    "nps_last": "no recommendation (NPS) answer on record",
    "nps_detractor": "no recommendation (NPS) answer on record",
    "csat_last": "no satisfaction survey on record",
}


def _missing(feature: str) -> str:
    if feature in _MISSING:
        return _MISSING[feature]
    if feature.endswith("_mean_365d") and (feature.startswith("csat")
                                           or "_score_" in feature):
        return "no satisfaction survey answered in the last 365 days"
    return f"{_label(feature)} unknown"


def sentence(feature: str, row: pd.Series) -> str:
    """A short sentence about ``feature``'s value in ``row`` (which holds every feature)."""
    value = row.get(feature)
    if _num(value) is None and not isinstance(value, str):
        return _missing(feature)
    try:
        if feature in _SPECIAL:
            return _SPECIAL[feature](row, feature)
        text = _windowed(feature, row)
        if text is not None:
            return text
    except (TypeError, ValueError):
        pass
    shown = _fmt(_num(value)) if _num(value) is not None else str(value)
    return f"{_label(feature)} is {shown}"


def _label(feature: str) -> str:
    return feature.removeprefix("attr_").replace("_", " ")


def _json_value(v):
    f = _num(v)
    if f is not None:
        return f
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)


def top_reasons(contributions: pd.DataFrame, features: pd.DataFrame,
                n: int = N_REASONS) -> list[list[dict]]:
    """Per row, up to ``n`` reasons ``{"feature", "value", "contribution", "text"}``.

    ``contributions`` and ``features`` share their index; a reason is a feature with a
    positive contribution (it raises the risk), largest first.
    """
    c = contributions.to_numpy(dtype=float)
    names = list(contributions.columns)
    order = np.argsort(-c, axis=1, kind="stable")[:, : 3 * n]
    out: list[list[dict]] = []
    columns = [str(c) for c in features.columns]
    values = features.to_numpy(dtype=object)  # one conversion; a dict per row below
    for i in range(len(values)):
        row = dict(zip(columns, values[i]))
        reasons: list[dict] = []
        for j in order[i]:
            if c[i, j] <= MIN_CONTRIBUTION or len(reasons) == n:
                break
            f = names[j]
            text = sentence(f, row)
            same = next((r for r in reasons if r["text"] == text), None)
            if same is not None:  # related features (recency, overdue) say the same thing
                same["contribution"] = round(same["contribution"] + float(c[i, j]), 4)
                continue
            reasons.append({"feature": f, "value": _json_value(row.get(f)),
                            "contribution": round(float(c[i, j]), 4), "text": text})
        out.append(reasons)
    return out
