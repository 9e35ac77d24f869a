"""The foundation on real data: UCI Online Retail imported, validated clean, features as of a
date, and the point-in-time property on real events (skipped when ../shared/data is absent)."""

from __future__ import annotations

import pandas as pd
import pytest

from forecasting.dataset import Dataset
from forecasting.features import build_features
from forecasting.importers.online_retail import convert
from forecasting.io import read_table
from forecasting.validate import validate_dataset

pytestmark = pytest.mark.realdata


@pytest.fixture
def online_retail(shared_data) -> Dataset:
    raw = read_table(shared_data("online_retail", "online_retail.parquet"))
    data, _ = convert(raw)
    return data


def test_imported_online_retail_passes_the_contract(online_retail):
    report = validate_dataset(online_retail)
    assert report.ok, [p.format() for p in report.problems]
    assert online_retail.surveys is None  # absent tables are fine


def test_features_on_online_retail_use_only_the_past(online_retail):
    f = build_features(online_retail, "2011-09-10")
    assert len(f) > 3000 and f.index.is_unique
    assert f["csat_last"].isna().all()  # no surveys: missing, not an error
    cut = pd.Timestamp("2011-09-10 23:59:59.999999")
    o = online_retail.orders
    past_only = Dataset(orders=o[o["order_date"] <= cut], customers=online_retail.customers)
    pd.testing.assert_frame_equal(build_features(past_only, "2011-09-10"), f)
