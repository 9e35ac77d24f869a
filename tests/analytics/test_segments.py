"""RFM scores, segments, lifecycle stages, churn source and value on hand-built tables."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasting.dataset import Dataset
from forecasting.errors import ForecastingError
from forecasting.analytics.segments import (
    SEGMENT_GRID, SEGMENTS, SegmentConfig, quintile_scores, rfm_table, segments,
)

from analytics_tables import five_customers, orders_frame


def independent_scores(values: list[float], higher_is_better: bool = True) -> list[int]:
    """Written differently on purpose: build the NTILE(5) buckets as explicit lists, then a
    value's score is the bucket of the first place its value takes in the sorted list."""
    n = len(values)
    sizes = [n // 5 + (1 if i < n % 5 else 0) for i in range(5)]
    bucket_of_place = [b + 1 for b, size in enumerate(sizes) for _ in range(size)]
    ordered = sorted(values, reverse=not higher_is_better)
    first_place = {}
    for place, v in enumerate(ordered):
        first_place.setdefault(v, place)
    return [bucket_of_place[first_place[v]] for v in values]


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.lists(st.integers(0, 12), min_size=1, max_size=60), st.booleans())
def test_quintile_scores_match_an_independent_computation(values, higher):
    got = quintile_scores(pd.Series(values, dtype=float), higher_is_better=higher)
    assert got.tolist() == independent_scores(values, higher)


def test_quintile_scores_ties_share_the_lowest_score_and_ignore_row_order():
    # 10 customers; values 1, 1, 1 take places 0-2 of NTILE buckets 1,1,2 -> all get 1
    s = pd.Series([1, 1, 1, 2, 3, 4, 5, 5, 6, 7], index=list("abcdefghij"), dtype=float)
    assert quintile_scores(s).tolist() == [1, 1, 1, 2, 3, 3, 4, 4, 5, 5]
    shuffled = s.sample(frac=1.0, random_state=3)
    assert quintile_scores(shuffled).reindex(s.index).tolist() == quintile_scores(s).tolist()
    # recency: fewer days is better -> the most recent customer scores 5
    days = pd.Series([0.0, 10, 20, 30, 40], index=list("vwxyz"))
    assert quintile_scores(days, higher_is_better=False).tolist() == [5, 4, 3, 2, 1]


def test_the_segment_grid_names_every_score_pair_and_uses_all_eleven_names():
    assert set(SEGMENT_GRID) == {(r, fm) for r in range(1, 6) for fm in range(1, 6)}
    assert set(SEGMENT_GRID.values()) == set(SEGMENTS) and len(SEGMENTS) == 11


def test_rfm_values_and_named_segments_as_of_a_date():
    orders = five_customers()
    rfm = rfm_table(orders, "2024-06-30")
    assert rfm.loc["k1", "days_since_last_order"] == 0  # ordered on the as-of day
    assert rfm.loc["k1", "orders_365d"] == 5  # the July order is after the as-of date
    assert rfm.loc["k2", "revenue_365d"] == pytest.approx(400.0 - 40.0)  # minus credit note
    seg = segments(Dataset(orders), "2024-06-30").set_index("customer_id")
    assert seg.loc["k1", ["r_score", "f_score", "m_score"]].tolist() == [5, 5, 5]
    assert seg.loc["k1", "segment"] == "Champions"
    assert seg.loc["k5", "rfm_score"] == "111" and seg.loc["k5", "segment"] == "Lost"
    assert seg["segment"].notna().all()


def test_lifecycle_stages_and_value():
    orders = orders_frame([
        ("A1", "old", "2023-01-10", 100.0, None, None, "completed"),  # 537 days ago: churned
        ("B1", "new", "2024-05-01", 100.0, None, None, "completed"),  # first order 60 d ago
        ("C1", "reg", "2023-09-01", 300.0, None, None, "completed"),
        ("C2", "reg", "2024-06-01", 300.0, None, None, "completed"),
    ])
    customers = pd.DataFrame({"customer_id": ["old", "new", "reg", "prospect"]})
    data = Dataset(orders, customers=customers)
    seg = segments(data, "2024-06-30").set_index("customer_id")
    assert seg["lifecycle_stage"].to_dict() == {
        "old": "churned", "new": "new", "reg": seg.loc["reg", "lifecycle_stage"],
        "prospect": "prospect"}
    assert seg.loc["reg", "lifecycle_stage"] in ("active", "at risk")
    assert pd.isna(seg.loc["prospect", "segment"]) and pd.isna(seg.loc["prospect", "r_score"])
    assert seg.loc["old", "revenue_to_date"] == 100.0
    assert seg.loc["old", "value_at_risk_12m"] == 0.0  # nothing bought in the last year
    reg = seg.loc["reg"]
    assert reg["revenue_if_retained_12m"] == pytest.approx(600.0)
    assert reg["value_at_risk_12m"] == pytest.approx(reg["churn_probability"] * 600.0)
    assert reg["expected_revenue_12m"] + reg["value_at_risk_12m"] == pytest.approx(600.0)
    assert (seg["churn_source"].dropna() == "rfm rules").all()


def test_model_probabilities_drive_at_risk_and_value_when_a_champion_exists(model_scores):
    seg = segments(Dataset(five_customers()), "2024-06-30",
                   churn_scores=model_scores).set_index("customer_id")
    assert seg.loc["k4", "churn_source"] == "model v7"
    assert seg.loc["k4", "churn_probability"] == 0.9
    # k4's first order was 97 days ago (not new) and p 0.9 >= 0.5
    assert seg.loc["k4", "lifecycle_stage"] == "at risk"
    assert seg.loc["k2", "lifecycle_stage"] == "new"  # first order 51 days ago: new first
    assert seg.loc["k4", "reasons"] == ("3 quality complaints in 90 days; "
                                        "satisfaction fell from 4.5 to 3.0")
    assert seg.loc["k4", "value_at_risk_12m"] == pytest.approx(0.9 * 200.0)
    assert seg.loc["k3", "churn_source"] == "rfm rules"  # not scored by the model


def test_no_scores_fall_back_to_rfm_rules_and_say_so(caplog):
    """Without churn scores (no champion: the caller passes None) the RFM rules decide, and
    segments never reaches into the model registry itself."""
    with caplog.at_level(logging.INFO, logger="forecasting.analytics.segments"):
        seg = segments(Dataset(five_customers()), "2024-06-30")
    assert (seg["churn_source"] == "rfm rules").all()
    assert "RFM rules" in caplog.text
    assert seg["churn_probability"].between(0, 1).all()


def test_analytics_never_import_churn_scoring_or_tracking():
    import ast
    from pathlib import Path

    import forecasting.analytics as pkg

    for path in Path(pkg.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        names = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        names |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert not any(m and (m.startswith("forecasting.churn") or m.endswith("tracking")
                              or m == "mlflow") for m in names), (path.name, names)


def test_rule_churn_rates_are_measured_when_history_allows():
    # 40 customers active at the cutoff 2024-04-01: the 20 who ordered again by 2024-06-30
    # did not churn, the other 20 did -> overall rule rate 0.5
    rows = []
    for i in range(40):
        rows.append((f"A{i}", f"c{i:02d}", "2024-03-01", 10.0, None, None, "completed"))
        if i < 20:
            rows.append((f"B{i}", f"c{i:02d}", "2024-05-01", 10.0, None, None, "completed"))
    seg = segments(Dataset(orders_frame(rows)), "2024-06-30", SegmentConfig(horizon_days=90))
    # every customer was in the same segment at the cutoff -> that segment's rate, 0.5
    assert np.allclose(seg["churn_probability"], 0.5)


def test_bad_as_of_is_a_user_error():
    with pytest.raises(ForecastingError):
        segments(Dataset(five_customers()), "not-a-date")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 8), max_size=40), st.integers(1, 4), st.booleans())
def test_cut_points_from_parts_give_the_same_scores(values, parts, higher_is_better):
    """The Spark engine's way: value counts summed over parts (buckets), cut points once,
    applied to each part, equal the scores computed over all values at once."""
    from forecasting.analytics.segments import apply_cut_points, cut_points_from_counts

    s = pd.Series(values, dtype=float)
    sign = 1.0 if higher_is_better else -1.0
    counts = pd.concat([(s.iloc[i::parts] * sign).value_counts() for i in range(parts)])
    counts = counts.groupby(level=0).sum().sort_index()
    cuts = cut_points_from_counts(counts.index.to_numpy(float), counts.to_numpy())
    got = pd.concat([apply_cut_points(s.iloc[i::parts], cuts, higher_is_better)
                     for i in range(parts)]).sort_index()
    expected = quintile_scores(s, higher_is_better)
    assert got.tolist() == expected.tolist()
    if values:
        assert got.tolist() == independent_scores(values, higher_is_better)
