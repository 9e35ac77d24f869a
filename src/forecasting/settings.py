"""The environment, read in one place: where models live, where runs go, the API's settings.

| Variable | Meaning | Default |
|---|---|---|
| ``FORECASTING_MODELS_DIR`` | local MLflow store, artifacts and the serving snapshot | ``./models`` |
| ``MLFLOW_TRACKING_URI`` | any MLflow tracking server | a SQLite store in the models folder |
| ``FORECASTING_SNAPSHOT_DIR`` | the scored snapshot the API serves | ``<models>/serving`` |
| ``FORECASTING_API_KEY`` | required key of every endpoint but health and OpenAPI | none |
| ``FORECASTING_API_WORKERS`` | API worker processes | 1 |
| ``FORECASTING_SNAPSHOT_ROOT`` | versioned snapshots, score/forecast history, monitor reports | ``<models>/snapshots`` |
| ``FORECASTING_ARTIFACT_ROOT`` | artifacts of new experiments when ``MLFLOW_TRACKING_URI`` is a database (``postgresql+psycopg2://...``) rather than a server | ``<models>/artifacts`` |

:func:`current` reads them when called (a test or a command that sets one sees it at once);
nothing else in the package reads the environment.

Example:
    >>> s = current({"FORECASTING_MODELS_DIR": "/srv/models", "FORECASTING_API_WORKERS": "2"})
    >>> str(s.snapshot_dir), s.api_workers, s.tracking_uri is None
    ('/srv/models/serving', 2, True)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from forecasting.errors import ForecastingError

# Defaults used by more than one module, defined here once.
DEFAULT_LOOKBACK_DAYS = 365  #: trailing window of features, RFM and "active customer"
DEFAULT_CHURN_HORIZON_DAYS = 90  #: churn = no completed order in this many days after a cutoff
DEFAULT_FREQ = "W"  #: demand frequency when neither the user nor a model says otherwise
DEFAULT_HORIZON = 12  #: forecast periods
DEFAULT_LEVELS = (80, 95)  #: prediction interval levels, %

MODELS_DIR_ENV = "FORECASTING_MODELS_DIR"
TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"
SNAPSHOT_DIR_ENV = "FORECASTING_SNAPSHOT_DIR"
API_KEY_ENV = "FORECASTING_API_KEY"
API_WORKERS_ENV = "FORECASTING_API_WORKERS"
SNAPSHOT_ROOT_ENV = "FORECASTING_SNAPSHOT_ROOT"
ARTIFACT_ROOT_ENV = "FORECASTING_ARTIFACT_ROOT"


@dataclass(frozen=True)
class Settings:
    models_dir: Path
    tracking_uri: str | None  # None: the local SQLite store under models_dir
    snapshot_dir: Path
    api_key: str | None
    api_workers: int
    snapshot_root: Path = Path("models/snapshots")
    artifact_root: Path = Path("models/artifacts")


def current(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings from ``environ`` (default: the process environment), read now."""
    env = os.environ if environ is None else environ
    models = Path(env.get(MODELS_DIR_ENV) or "models").resolve()
    workers = env.get(API_WORKERS_ENV) or "1"
    try:
        n_workers = int(workers)
    except ValueError:
        raise ForecastingError(
            f"{API_WORKERS_ENV} must be a whole number of worker processes, got {workers!r}"
        ) from None
    return Settings(
        models_dir=models,
        tracking_uri=env.get(TRACKING_URI_ENV) or None,
        snapshot_dir=Path(env.get(SNAPSHOT_DIR_ENV) or models / "serving"),
        api_key=env.get(API_KEY_ENV) or None,
        api_workers=n_workers,
        snapshot_root=Path(env.get(SNAPSHOT_ROOT_ENV) or models / "snapshots"),
        artifact_root=Path(env.get(ARTIFACT_ROOT_ENV) or models / "artifacts"),
    )
