"""Hand-built tables for the customer analytics tests (every boundary row is commented)."""

from __future__ import annotations


import pandas as pd
import pytest

from forecasting.dataset import Dataset

from analytics_tables import orders_frame


@pytest.fixture
def january() -> dict[str, pd.DataFrame]:
    """One month (January 2024) with every KPI worked out by hand.

    * 4 orders delivered in January, 3 on time -> fulfilment 3/4 = 75 %.
      O1 is delivered ON its promised day (boundary: counts as on time);
      O4 is delivered one day after its promised day (late).
    * buyers a (2 orders), b, c (1 order each; c's order O4 is the late one)
      -> repurchase 1/3 = 33.3 %.
    * nobody ordered before January -> no customers at start: retention and churn undefined.
    * surveys nps 10, 9, 8, 3 -> promoters 2/4 - detractors 1/4 = 25; csat 5, 4, 4, 3 -> 4.0.
    * complaints: quality opened 10 Jan resolved 12 Jan (2 days), delivery opened 15 Jan
      resolved 25 Jan (10 days) -> 2 per 4 orders = 50 per 100 orders (quality 25, delivery
      25, others 0); resolution mean (2 + 10) / 2 = 6 days, p90 = 2 + 0.9 * (10 - 2) = 9.2.
    """
    orders = orders_frame([
        ("O1", "a", "2024-01-02", 100.0, "2024-01-05", "2024-01-05", "completed"),  # on the day
        ("O2", "a", "2024-01-10", 50.0, "2024-01-15", "2024-01-12", "completed"),
        ("O3", "b", "2024-01-11", 70.0, "2024-01-20", "2024-01-18", "completed"),
        ("O4", "c", "2024-01-12", 30.0, "2024-01-16", "2024-01-17", "completed"),  # 1 day late
    ])
    surveys = pd.DataFrame({
        "customer_id": ["a", "b", "c", "a"],
        "surveyed_at": pd.to_datetime(["2024-01-20", "2024-01-21", "2024-01-22", "2024-01-23"]),
        "csat": [5.0, 4.0, 4.0, 3.0],
        "nps": [10.0, 9.0, 8.0, 3.0],
    })
    complaints = pd.DataFrame({
        "complaint_id": ["K1", "K2"],
        "customer_id": ["a", "c"],
        "opened_at": pd.to_datetime(["2024-01-10", "2024-01-15"]),
        "category": ["quality", "delivery"],
        "resolved_at": pd.to_datetime(["2024-01-12", "2024-01-25"]),
    })
    return {"orders": orders, "surveys": surveys, "complaints": complaints}


@pytest.fixture
def january_data(january) -> Dataset:
    return Dataset(orders=january["orders"], surveys=january["surveys"],
                   complaints=january["complaints"])


@pytest.fixture
def model_scores():
    """Churn scores as :func:`forecasting.churn.score.score_customers` returns them (a
    champion, version 7, scored two of the customers)."""
    return pd.DataFrame({"customer_id": ["k4", "k2"], "churn_probability": [0.9, 0.1],
                         "risk_band": ["high", "low"],
                         "reasons": [[{"feature": "complaints_quality_90d", "value": 3,
                                       "contribution": 0.8,
                                       "text": "3 quality complaints in 90 days"},
                                      {"feature": "csat_trend", "value": -1.5,
                                       "contribution": 0.4,
                                       "text": "satisfaction fell from 4.5 to 3.0"}], []],
                         "model_version": ["7", "7"]})
