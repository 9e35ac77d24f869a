"""Production plan: lookup by product id, horizon covering the longest lead time (champion
too), the model's own frequency, default lead time, new products."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.dataset import Dataset
from forecasting.demand.pipeline import forecast
from forecasting.errors import ForecastingError
from forecasting.demand.planning import DEFAULT_LEAD_TIME_DAYS, plan_from_dataset, production_plan

CANDS = ["seasonal_naive", "theta", "damped"]


def _orders(seed: int = 0) -> pd.DataFrame:
    """Two years of daily orders of 'old' (about 5 a day) and five other products, and of
    'young', first sold 10 weeks before the end (about 3 a day)."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2023-01-02", "2024-12-29", freq="D")
    rows = []
    products = [("old", days[0], 5), ("young", days[-70], 3)] + [
        (f"other{k}", days[0], 2 + k) for k in range(5)]
    for pid, start, rate in products:
        d = days[days >= start]
        q = rng.poisson(rate, len(d)).astype(float)
        rows.append(pd.DataFrame({"order_id": [f"{pid}{i}" for i in range(len(d))],
                                  "customer_id": "c", "product_id": pid, "order_date": d,
                                  "quantity": q, "amount": q, "status": "completed"}))
    o = pd.concat(rows, ignore_index=True)
    return o[o["quantity"] > 0]


def test_a_product_first_sold_ten_weeks_ago_without_stock_gets_a_positive_quantity():
    inv = pd.DataFrame({"product_id": ["young", "old", "never"], "on_hand": [0.0, 0.0, 0.0],
                        "lead_time_days": [21, 21, 21]})
    plan = plan_from_dataset(Dataset(orders=_orders()), inv).set_index("product_id")
    assert list(plan.index) == ["young", "old", "never"]        # every product gets a row
    assert plan.loc["young", "history"] == "short"             # 9 complete weeks
    assert plan.loc["young", "recommended_quantity"] > 0
    # about 3 a day over 3 weeks: the lead-time demand is of that order
    assert 30 < plan.loc["young", "lead_time_demand"] < 120
    assert plan.loc["never", "recommended_quantity"] == 0
    assert "no demand history" in plan.loc["never", "note"]


@pytest.fixture(scope="module")
def weekly():
    from forecasting.demand.series import orders_to_series

    return orders_to_series(_orders(), freq="W")


@pytest.fixture(scope="module")
def champion(weekly):
    """A model trained and calibrated for 12 weekly steps (like a registered champion)."""
    return forecast(weekly, horizon=12, freq="W", candidates=CANDS, progress=False).model


def test_lead_times_are_looked_up_by_product_id(weekly, champion):
    """An inventory with a shuffled, non 0..n-1 index and an unknown product first."""
    inv = pd.DataFrame({"product_id": ["nope", "young", "old"], "on_hand": [0.0, 0.0, 0.0],
                        "lead_time_days": [700, 14, 70]}, index=[7, 3, 5])
    plan = production_plan(weekly, inv, model=champion).set_index("product_id")
    assert plan["lead_time_periods"].to_dict() == {"nope": 100, "young": 2, "old": 10}


def test_a_300_day_lead_time_is_43_weeks_with_a_champion_too(weekly, champion):
    inv = pd.DataFrame({"product_id": ["old", "young"], "on_hand": [0.0, 0.0],
                        "lead_time_days": [300, 14]})
    for model in (None, champion):
        plan = production_plan(weekly, inv, model=model).set_index("product_id")
        assert plan.loc["old", "lead_time_periods"] == 43
        # 43 weeks of about 35 a week, not 12 weeks' worth
        assert plan.loc["old", "lead_time_demand"] > 30 * 35
        assert plan.loc["old", "safety_stock"] > 0
    assert "extended from 12 to 43 periods" in plan.loc["old", "note"]
    assert "extended" not in plan.loc["young", "note"]  # 2 weeks: within the calibration


def test_frequency_is_the_models_own_and_a_conflict_is_an_error(weekly, champion):
    inv = pd.DataFrame({"product_id": ["old"], "on_hand": [0.0], "lead_time_days": [30]})
    plan = production_plan(weekly, inv, model=champion)      # no freq: the model's (W)
    assert plan["lead_time_periods"].item() == 5
    with pytest.raises(ForecastingError, match="forecasts W periods but --freq MS"):
        production_plan(weekly, inv, freq="MS", model=champion)


def test_unknown_lead_time_uses_the_stated_default(weekly, champion):
    inv = pd.DataFrame({"product_id": ["old", "young"], "on_hand": [0.0, 0.0],
                        "lead_time_days": [300, np.nan]})
    plan = production_plan(weekly, inv, model=champion).set_index("product_id")
    assert plan.loc["young", "lead_time_periods"] == np.ceil(DEFAULT_LEAD_TIME_DAYS / 7)
    assert "default" in plan.loc["young", "note"]
    plan = production_plan(weekly, inv, model=champion,
                           default_lead_time_days=70).set_index("product_id")
    assert plan.loc["young", "lead_time_periods"] == 10


def test_an_inventory_of_never_ordered_products_gets_rows_without_fitting(weekly):
    """No inventory product has history: a row each with quantity 0, and no model is fitted
    (``model=None`` would otherwise fit one on ``weekly``: the API's plan requests rely on
    this to answer at once)."""
    inv = pd.DataFrame({"product_id": ["nope", "nada"], "on_hand": [0.0, 3.0],
                        "lead_time_days": [14, np.nan]})
    plan = production_plan(weekly.iloc[:0], inv).set_index("product_id")
    assert list(plan.index) == ["nope", "nada"]
    assert (plan["recommended_quantity"] == 0).all()
    assert plan["note"].str.startswith("no demand history").all()
    assert "default" in plan.loc["nada", "note"]
    assert plan["lead_time_periods"].tolist() == [2, 4]
