"""Fixtures for the churn tests: small seeded sample data and training rows from it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.churn.config import ChurnConfig


@pytest.fixture(scope="session")
def sample_data():
    """300 customers, 2023-2024, seed 0 (the generator is seeded: same data every run)."""
    from forecasting.sample import generate

    return generate(customers=300, seed=0)


@pytest.fixture(scope="session")
def sample_rows(sample_data):
    """(X_train, y_train, X_test, y_test): features + labels at two cutoffs of the sample,
    the test cutoff's label window after the training one's (a time split)."""
    from forecasting.churn.pipeline import rows_at, stack

    cfg = ChurnConfig()
    train = stack([rows_at(sample_data, pd.Timestamp(c), cfg)
                   for c in ("2024-03-01", "2024-04-01", "2024-05-01")])
    test = rows_at(sample_data, pd.Timestamp("2024-09-01"), cfg)
    return train.X, train.y, test.X, test.y


@pytest.fixture(scope="session")
def sample_dir(sample_data, tmp_path_factory):
    """The sample data set written as a folder of CSV tables."""
    from forecasting.io import write_table

    folder = tmp_path_factory.mktemp("sample")
    for name, table in sample_data.tables().items():
        write_table(table, folder / f"{name}.csv")
    return folder


@pytest.fixture
def crm_table():
    """Factory of small labelled CRM exports (see :func:`telco_like_table`)."""
    return telco_like_table


def telco_like_table(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """A small CRM export: numeric, text and yes/no columns, a few gaps, label 'Churn'."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 72, n)
    contract = rng.choice(["month", "one year", "two year"], n, p=[0.5, 0.3, 0.2])
    charges = rng.uniform(20, 110, n).round(2)
    logit = -1.0 - 0.04 * tenure + 0.02 * charges + np.where(contract == "month", 1.2, -0.5)
    churn = rng.uniform(size=n) < 1 / (1 + np.exp(-logit))
    df = pd.DataFrame({
        "customer": [f"K{i:04d}" for i in range(n)],
        "tenure": tenure.astype(float),
        "contract": contract,
        "monthly_charges": charges,
        "paperless": rng.choice(["Yes", "No"], n),
        "Churn": np.where(churn, "Yes", "No"),
    })
    df.loc[::37, "monthly_charges"] = np.nan  # a few gaps: models must cope
    return df


@pytest.fixture
def fast_config(tmp_path):
    """A TOML config with fewer cutoffs and search trials (the tests check wiring, not
    accuracy)."""
    path = tmp_path / "fast.toml"
    path.write_text("n_cutoffs = 3\ntrials = 3\n")
    return path
