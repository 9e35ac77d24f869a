"""Shared test fixtures: the real-data folder and tiny tables."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO / ".." / "shared" / "data").resolve()


@pytest.fixture(autouse=True)
def _isolated_models(tmp_path, monkeypatch):
    """Every test gets its own MLflow store and models folder; nothing lands in the repo."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv("FORECASTING_MODELS_DIR", str(tmp_path / "models"))


def _shared_data(*parts: str) -> Path:
    """A path under ../shared/data; skips the test with a reason when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available: {path} is absent (../shared/data holds the "
                    f"public datasets; see its README)")
    return path


@pytest.fixture
def shared_data():
    """``shared_data("online_retail", "online_retail.parquet")``: the path, or a skip."""
    return _shared_data
