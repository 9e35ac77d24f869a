from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting.demand.panel import Panel


def seasonal_panel(n: int = 8, T: int = 72, seed: int = 0) -> pd.DataFrame:
    """Monthly series: level x (1 + 0.4 sin) x slight trend + noise, all positive."""
    rng = np.random.default_rng(seed)
    t = np.arange(T)
    rows = []
    for i in range(n):
        level = 50 + 20 * i
        season = 1 + 0.4 * np.sin(2 * np.pi * (t + i) / 12)
        y = level * season * (1 + 0.003 * t) + rng.normal(0, 0.04 * level, T)
        rows.append(pd.DataFrame({"unique_id": f"s{i}", "ds": pd.date_range(
            "2015-01-01", periods=T, freq="MS"), "y": np.clip(y, 0.1, None)}))
    return pd.concat(rows, ignore_index=True)


@pytest.fixture
def panel_df() -> pd.DataFrame:
    return seasonal_panel()


@pytest.fixture
def panel(panel_df) -> Panel:
    return Panel.from_long(panel_df, "MS")


def shared_data() -> Path | None:
    p = Path(__file__).resolve().parents[2] / "../shared/data"
    return p.resolve() if p.exists() else None


@pytest.fixture
def mlflow_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv("FORECASTING_MODELS_DIR", str(tmp_path / "models"))
    return tmp_path
