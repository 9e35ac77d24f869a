"""The sample generator: deterministic, sized as promised, in the contract, and realistic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting import schema as s
from forecasting.errors import ForecastingError
from forecasting.io import read_dataset
from forecasting.sample import generate, write
from forecasting.validate import validate_dataset

START, END = pd.Timestamp("2023-01-01"), pd.Timestamp("2024-12-31")


@pytest.fixture(scope="module")
def data():
    """The default data set (2,000 customers, 100 products, two years), seed 0."""
    return generate(seed=0)


def test_same_seed_same_data_other_seed_other_data():
    a, b = generate(customers=300, products=30, seed=5), generate(customers=300, products=30, seed=5)
    for name, df in a.tables().items():
        pd.testing.assert_frame_equal(df, b.tables()[name])
    c = generate(customers=300, products=30, seed=6)
    assert not a.orders[s.AMOUNT].equals(c.orders[s.AMOUNT])


def test_default_sizes(data):
    assert len(data.customers) == 2000 and len(data.products) == 100
    assert len(data.inventory) == 100
    assert 30_000 <= len(data.orders) <= 55_000          # "about 40k order lines"
    prospects = ~data.customers[s.CUSTOMER_ID].isin(data.orders[s.CUSTOMER_ID])
    assert 0.03 <= prospects.mean() <= 0.08               # ~5 % never order
    assert len(data.complaints) > 500 and len(data.surveys) > 2000


def test_validates_against_the_contract(data):
    report = validate_dataset(data, now=pd.Timestamp("2025-01-01"))
    assert report.ok, "\n".join(p.format() for p in report.problems)
    assert report.repairs == {} or not any(report.repairs.values())


def test_contract_rules_explicitly(data):
    o = data.orders
    for df, col in ((o, s.ORDER_ID), (o, s.CUSTOMER_ID), (o, s.PRODUCT_ID),
                    (data.customers, s.CUSTOMER_ID), (data.complaints, s.COMPLAINT_ID)):
        assert df[col].map(type).eq(str).all(), col
    assert not o.duplicated([s.ORDER_ID, s.LINE_NO]).any()
    returned = o[s.STATUS] == s.STATUS_RETURNED
    assert (o.loc[~returned, s.QUANTITY] > 0).all() and (o.loc[returned, s.QUANTITY] < 0).all()
    assert (o.loc[returned, s.AMOUNT] < 0).all()
    assert set(o[s.STATUS]) == {s.STATUS_COMPLETED, s.STATUS_CANCELLED, s.STATUS_RETURNED}
    delivered = o[s.DELIVERED_DATE].notna()
    assert (o.loc[delivered, s.DELIVERED_DATE] >= o.loc[delivered, s.ORDER_DATE]).all()
    assert o.loc[o[s.STATUS] == s.STATUS_CANCELLED, s.DELIVERED_DATE].isna().all()
    # every date within [start, end]: deliveries/resolutions after end are left empty
    for df, cols in ((o, [s.ORDER_DATE, s.DELIVERED_DATE]),
                     (data.complaints, [s.OPENED_AT, s.RESOLVED_AT]),
                     (data.surveys, [s.SURVEYED_AT])):
        for col in cols:
            v = df[col].dropna()
            assert v.min() >= START and v.max() <= END, col
    sv = data.surveys
    assert sv[s.CSAT].between(1, 5).all() and (sv[s.CSAT] % 1 == 0).all()
    assert sv[s.NPS].between(0, 10).all() and (sv[s.NPS] % 1 == 0).all()
    for d in s.DIMENSIONS:
        assert sv[d].between(1, 5).all()
    known = set(data.customers[s.CUSTOMER_ID])
    for df in (o, data.complaints, sv):
        assert set(df[s.CUSTOMER_ID]) <= known
    assert set(data.complaints[s.CATEGORY]) == set(s.COMPLAINT_CATEGORIES)
    assert set(data.complaints[s.SEVERITY]) == {"low", "medium", "high"}
    assert (data.inventory[s.ON_HAND] >= 0).all()


def test_orders_look_real(data):
    o = data.orders
    sold = o[o[s.STATUS] == s.STATUS_COMPLETED]
    assert o[s.ORDER_DATE].dt.day_of_week.ge(5).mean() < 0.05        # few weekend orders
    delivered = sold.dropna(subset=[s.DELIVERED_DATE])
    late_days = (delivered[s.DELIVERED_DATE] - delivered[s.PROMISED_DATE]).dt.days
    assert 0.05 < (late_days > 0).mean() < 0.25                       # mostly on time
    late = late_days[late_days > 0]
    assert late.mean() > late.median()                                # right-skewed tail
    by_region = (late_days > 0).groupby(delivered[s.CUSTOMER_ID].map(
        data.customers.set_index(s.CUSTOMER_ID)["region"])).mean()
    assert by_region["west"] > 1.5 * by_region["north"]               # some regions worse served
    # long tail: the top product sells far more than the median one; many are intermittent
    weekly = sold.groupby([s.PRODUCT_ID, sold[s.ORDER_DATE].dt.to_period("W")]).size()
    zero_weeks = 1 - weekly.groupby(level=0).size() / sold[s.ORDER_DATE].dt.to_period("W").nunique()
    assert (zero_weeks > 0.3).mean() > 0.3
    per_product = sold[s.PRODUCT_ID].value_counts()
    assert per_product.iloc[0] > 10 * per_product.median()
    # trend: the second year sells more lines than the first
    year = sold[s.ORDER_DATE].dt.year.value_counts()
    assert year[2024] > year[2023]
    # own rhythm: customers differ in their mean gap between orders
    first = sold.drop_duplicates(s.ORDER_ID)
    gaps = first.sort_values(s.ORDER_DATE).groupby(s.CUSTOMER_ID)[s.ORDER_DATE].diff().dt.days
    per_customer = gaps.groupby(first[s.CUSTOMER_ID]).mean().dropna()
    assert per_customer.quantile(0.9) > 2.5 * per_customer.quantile(0.1)
    # amount = quantity x unit price less a small per-customer discount
    price = sold[s.PRODUCT_ID].map(data.products.set_index(s.PRODUCT_ID)["unit_price"])
    discount = 1 - sold[s.AMOUNT] / (sold[s.QUANTITY] * price)
    assert discount.between(-0.01, 0.2).all()


def test_churn_rate_per_year_is_plausible(data):
    from forecasting.labels import churn_labels

    y = churn_labels(data.orders, pd.Timestamp("2023-12-31"), horizon_days=365)
    assert 0.15 <= y.mean() <= 0.40   # seed 0: 0.19 leave without a single order in 2024


def test_more_complaints_more_churn(data):
    """The hazard shows: customers with complaints churn more often than those without."""
    from forecasting.labels import churn_labels

    cut = pd.Timestamp("2024-06-30")
    y = churn_labels(data.orders, cut, horizon_days=90)
    c = data.complaints
    recent = c[(c[s.OPENED_AT] <= cut) & (c[s.OPENED_AT] > cut - pd.Timedelta(days=365))]
    n = recent.groupby(s.CUSTOMER_ID).size().reindex(y.index, fill_value=0)
    rate = y.groupby(n.clip(upper=2)).mean()
    assert rate[1] > rate[0] + 0.03 and rate[2] > rate[1]


def test_churn_model_on_features_beats_recency_alone(data):
    """Churn is driven by experience, not a coin flip: complaints, csat and lateness add to
    recency. Trained on three earlier cutoffs, scored on a later one (time-based holdout)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from forecasting.features import build_features
    from forecasting.labels import churn_labels

    cols = ["days_since_last_order", "orders_365d", "order_overdue_days", "complaints_90d",
            "complaints_365d", "csat_mean_365d", "on_time_rate_365d", "amount_trend_90d"]

    def frame(cut):
        X = build_features(data, cut)
        y = churn_labels(data.orders, cut, horizon_days=90)
        X = X.reindex(y.index)[cols]
        return X.fillna(X.median()), y

    train = [frame(pd.Timestamp("2024-03-01") + pd.Timedelta(days=30 * k)) for k in range(3)]
    Xtr, ytr = pd.concat([t[0] for t in train]), pd.concat([t[1] for t in train])
    Xte, yte = frame(pd.Timestamp("2024-09-30"))
    auc = {}
    for name, use in (("recency", cols[:1]), ("all", cols)):
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
        model.fit(np.log1p(Xtr[use].clip(lower=0)), ytr)
        auc[name] = roc_auc_score(yte, model.predict_proba(np.log1p(Xte[use].clip(lower=0)))[:, 1])
    assert auc["all"] > auc["recency"] + 0.03, auc


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_write_then_read_back(tmp_path, fmt):
    data = generate(customers=150, products=15, seed=2)
    rows = write(data, tmp_path / "sample", fmt=fmt)
    assert rows["orders"] == len(data.orders)
    assert (tmp_path / "sample" / f"orders.{fmt}").exists()
    back = read_dataset(tmp_path / "sample")
    assert len(back.orders) == len(data.orders)
    assert back.orders[s.ORDER_ID].tolist() == data.orders[s.ORDER_ID].tolist()


def test_bad_arguments_are_user_errors(tmp_path):
    with pytest.raises(ForecastingError, match="after start"):
        generate(start="2024-01-01", end="2023-01-01")
    with pytest.raises(ForecastingError, match="future"):
        generate(end=(pd.Timestamp.now() + pd.Timedelta(days=400)).strftime("%Y-%m-%d"))
    with pytest.raises(ForecastingError, match="date"):
        generate(start="2023-13-45")
    with pytest.raises(ForecastingError, match="format"):
        write(generate(customers=5, products=2), tmp_path, fmt="xlsx")


def test_other_periods_and_sizes():
    data = generate(customers=40, products=3, start="2021-03-15", end="2021-06-10", seed=1)
    assert data.orders[s.ORDER_DATE].min() >= pd.Timestamp("2021-03-15")
    assert data.orders[s.ORDER_DATE].max() <= pd.Timestamp("2021-06-10")
    assert validate_dataset(data, now=pd.Timestamp("2022-01-01")).ok


def test_cli_sample(tmp_path, capsys):
    from forecasting.cli import main

    out = tmp_path / "out"
    assert main(["sample", str(out), "--customers", "120", "--products", "10",
                 "--seed", "3", "--format", "parquet"]) == 0
    assert {p.name for p in out.iterdir()} == {f"{t}.parquet" for t in (
        "orders", "customers", "complaints", "surveys", "inventory", "products")}
    assert main(["sample", str(tmp_path / "bad"), "--start", "2024-01-01",
                 "--end", "2023-01-01"]) == 1
