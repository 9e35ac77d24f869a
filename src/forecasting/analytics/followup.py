"""The follow-up list: customers ranked by value at risk, why, what to do and how often to visit.

Built from :func:`forecasting.analytics.segments.segments` (churn probability and value at risk, from
the champion churn model when one is registered, else from RFM rules) and the customer
features of :func:`forecasting.features.build_features` as of the same date.

Reasons come from the features by the rules of :data:`RULES`, each with a severity in
``[0, 1]``; the three most severe are listed. Each rule maps to an action::

    quality complaints, high returns          -> quality review
    late deliveries, delivery complaints      -> logistics review
    falling satisfaction, NPS detractor,
    service complaints                        -> account manager visit
    overdue reorder, falling spend            -> sales call

``suggested_action`` lists the actions of the listed reasons, most severe first (no reason:
``keep regular contact``). When the churn model is the source its own reasons are kept in
``model_reasons``.

Value tier and visit frequency, by ``revenue_if_retained_12m`` rank among the listed
customers with revenue: top 10 % ``A`` (visit monthly), next 20 % ``B`` (visit quarterly),
the rest ``C`` (call twice a year).

Example:
    >>> import pandas as pd
    >>> feats = pd.DataFrame({"complaints_quality_90d": [2.0], "on_time_rate_365d": [1.0]},
    ...                      index=pd.Index(["c1"], name="customer_id"))
    >>> reasons_from_features(feats).loc["c1", "suggested_action"]
    'quality review'
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.dataset import Dataset
from forecasting.features import build_features
from forecasting.schema import CUSTOMER_ID
from forecasting.analytics.segments import SegmentConfig, segments

log = logging.getLogger(__name__)

QUALITY_REVIEW = "quality review"
LOGISTICS_REVIEW = "logistics review"
ACCOUNT_MANAGER_VISIT = "account manager visit"
SALES_CALL = "sales call"
NO_ACTION = "keep regular contact"

TIERS = (("A", 0.10, "visit monthly"), ("B", 0.30, "visit quarterly"),
         ("C", 1.00, "call twice a year"))


@dataclass(frozen=True)
class Rule:
    """One reason: when it applies, how severe (0-1), how it reads, the action it calls for."""

    code: str
    action: str
    applies: Callable[[pd.DataFrame], pd.Series]
    severity: Callable[[pd.DataFrame], pd.Series]
    text: Callable[[pd.Series], str]


def _col(f: pd.DataFrame, name: str) -> pd.Series:
    return f[name].astype(float) if name in f else pd.Series(np.nan, index=f.index)


def _clip01(s: pd.Series) -> pd.Series:
    return s.clip(0.0, 1.0).fillna(0.0)


RULES: tuple[Rule, ...] = (
    Rule("quality_complaints", QUALITY_REVIEW,
         lambda f: _col(f, "complaints_quality_90d") >= 1,
         lambda f: _clip01(0.5 + 0.25 * _col(f, "complaints_quality_90d")),
         lambda r: f"{r['complaints_quality_90d']:.0f} quality complaint(s) in 90 days"),
    Rule("high_returns", QUALITY_REVIEW,
         lambda f: _col(f, "return_rate_365d") >= 0.10,
         lambda f: _clip01(_col(f, "return_rate_365d") * 2),
         lambda r: f"{r['return_rate_365d']:.0%} of order lines returned in 365 days"),
    Rule("late_deliveries", LOGISTICS_REVIEW,
         lambda f: _col(f, "on_time_rate_365d") < 0.90,
         lambda f: _clip01((0.90 - _col(f, "on_time_rate_365d")) / 0.90 * 1.5),
         lambda r: (f"{r['on_time_rate_365d']:.0%} of deliveries on time in 365 days"
                    + (f" (mean delay {r['delay_mean_days_365d']:.1f} days)"
                       if pd.notna(r.get("delay_mean_days_365d")) else ""))),
    Rule("delivery_complaints", LOGISTICS_REVIEW,
         lambda f: _col(f, "complaints_delivery_90d") >= 1,
         lambda f: _clip01(0.4 + 0.2 * _col(f, "complaints_delivery_90d")),
         lambda r: f"{r['complaints_delivery_90d']:.0f} delivery complaint(s) in 90 days"),
    Rule("falling_satisfaction", ACCOUNT_MANAGER_VISIT,
         lambda f: _col(f, "csat_trend") <= -0.5,
         lambda f: _clip01(-_col(f, "csat_trend") / 2),
         lambda r: (f"satisfaction fell from {r['csat_last'] - r['csat_trend']:.1f} "
                    f"to {r['csat_last']:.1f}")),
    Rule("nps_detractor", ACCOUNT_MANAGER_VISIT,
         lambda f: _col(f, "nps_detractor") == 1,
         lambda f: pd.Series(0.5, index=f.index),
         lambda r: f"would not recommend us (last NPS answer {r['nps_last']:.0f})"),
    Rule("service_complaints", ACCOUNT_MANAGER_VISIT,
         lambda f: _col(f, "complaints_service_90d") >= 1,
         lambda f: _clip01(0.4 + 0.2 * _col(f, "complaints_service_90d")),
         lambda r: f"{r['complaints_service_90d']:.0f} service complaint(s) in 90 days"),
    Rule("overdue_reorder", SALES_CALL,
         lambda f: (_col(f, "order_overdue_days") >= 14)
         & (_col(f, "order_overdue_days") >= 0.5 * _col(f, "order_gap_mean_days")),
         lambda f: _clip01((_col(f, "order_overdue_ratio") - 1) / 3),
         lambda r: (f"reorder overdue by {r['order_overdue_days']:.0f} days "
                    f"(usually every {r['order_gap_mean_days']:.0f} days)")),
    Rule("falling_spend", SALES_CALL,
         lambda f: _col(f, "amount_trend_90d") <= -0.33,
         lambda f: _clip01(-_col(f, "amount_trend_90d") * 0.8),
         lambda r: (f"spend in the last 90 days down "
                    f"{1 - (1 + r['amount_trend_90d']) / (1 - r['amount_trend_90d']):.0%} "
                    f"on the 90 days before")),
)


def reasons_from_features(features: pd.DataFrame, top: int = 3) -> pd.DataFrame:
    """Top reasons and suggested actions per customer from :func:`build_features` columns.

    Returns a frame on the same index with ``reasons`` (``"; "``-joined text, most severe
    first), ``reason_codes``, ``suggested_action`` and ``reason_severity`` (of the top one,
    0 when none). Absent feature columns simply never trigger their rule.
    """
    sev = pd.DataFrame(index=features.index)
    for rule in RULES:
        applies = rule.applies(features).fillna(False).astype(bool)
        sev[rule.code] = rule.severity(features).where(applies, -1.0).clip(lower=-1.0)
    by_code = {r.code: r for r in RULES}
    rows = []
    for cid, s in sev.iterrows():
        hit = s[s >= 0].sort_values(ascending=False, kind="stable").head(top)
        feats = features.loc[cid]
        texts = [by_code[c].text(feats) for c in hit.index]
        actions = list(dict.fromkeys(by_code[c].action for c in hit.index)) or [NO_ACTION]
        rows.append(("; ".join(texts), ", ".join(hit.index), "; ".join(actions),
                     float(hit.iloc[0]) if len(hit) else 0.0))
    return pd.DataFrame(rows, index=features.index,
                        columns=["reasons", "reason_codes", "suggested_action",
                                 "reason_severity"])


def value_tiers(revenue: pd.Series) -> pd.DataFrame:
    """``value_tier`` (A/B/C) and ``visit_frequency`` by rank of ``revenue`` (see module doc).

    Ranks break ties by the order of ``revenue`` (sort it first for a deterministic result);
    customers without positive revenue are tier C.
    """
    pos = revenue[revenue > 0]
    share = pos.rank(ascending=False, method="first") / max(len(pos), 1)
    tier = pd.Series("C", index=revenue.index, dtype=object)
    for name, upto, _ in reversed(TIERS):
        tier[share[share <= upto].index] = name
    freq = tier.map({name: f for name, _, f in TIERS})
    return pd.DataFrame({"value_tier": tier, "visit_frequency": freq})


def followup_list(data: Dataset, as_of, cfg: SegmentConfig = SegmentConfig(),
                  top: int | None = None, seg: pd.DataFrame | None = None,
                  churn_scores: pd.DataFrame | None = None,
                  features: pd.DataFrame | None = None) -> pd.DataFrame:
    """Customers with value at risk, ranked (1 = largest), with reasons and actions.

    ``seg`` is a :func:`forecasting.analytics.segments.segments` table for the same
    ``as_of`` (built from ``churn_scores`` when not given); ``features`` the churn features
    as of ``as_of`` (built with ``cfg.lookback_days`` when not given). Columns: ``rank``, ``customer_id``, ``value_at_risk_12m``,
    ``churn_probability``, ``churn_source``, ``expected_revenue_12m``,
    ``revenue_if_retained_12m``, ``segment``, ``lifecycle_stage``, ``value_tier``,
    ``visit_frequency``, ``reasons``, ``suggested_action``, ``reason_codes`` and, with a
    model, ``model_reasons``.
    """
    if seg is None:
        seg = segments(data, as_of, cfg, churn_scores=churn_scores)
    seg = seg[seg["value_at_risk_12m"] > 0].set_index(CUSTOMER_ID)
    seg = seg.sort_values(["value_at_risk_12m"], ascending=False, kind="stable")
    feats = features if features is not None else build_features(
        data, as_of, lookback_days=cfg.lookback_days)
    feats = feats.reindex(seg.index)
    why = reasons_from_features(feats)
    tiers = value_tiers(seg["revenue_if_retained_12m"].sort_values(ascending=False,
                                                                   kind="stable"))
    if "reasons" in seg:  # the model's own reasons
        seg = seg.rename(columns={"reasons": "model_reasons"})
    out = seg.join(why).join(tiers)
    out = out.reset_index()
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    cols = ["rank", CUSTOMER_ID, "value_at_risk_12m", "churn_probability", "churn_source",
            "expected_revenue_12m", "revenue_if_retained_12m", "segment", "lifecycle_stage",
            "value_tier", "visit_frequency", "reasons", "suggested_action", "reason_codes"]
    if "model_reasons" in out:
        cols.append("model_reasons")
    out = out[cols]
    if top is not None:
        out = out.head(top)
    log.info("follow-up list as of %s: %d customers with value at risk", as_of, len(out))
    return out
