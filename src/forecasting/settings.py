"""The environment, read in one place: where models live, where runs go, the API's settings.

| Variable | Meaning | Default |
|---|---|---|
| ``FORECASTING_MODELS_DIR`` | local MLflow store, artifacts and the serving snapshot | ``./models`` |
| ``MLFLOW_TRACKING_URI`` | any MLflow tracking server | a SQLite store in the models folder |
| ``FORECASTING_SNAPSHOT_ROOT`` | the snapshot store: versions, ``CURRENT``, score and forecast history, monitor reports | ``<models>/snapshots`` |
| ``FORECASTING_SNAPSHOT_DIR`` | a fixed snapshot folder served as is (no new versions) | none: the store's ``CURRENT`` |
| ``FORECASTING_RELOAD_SECONDS`` | how often the API looks for a new snapshot or champion | 30 |
| ``FORECASTING_API_KEY`` | required key of every endpoint but health and OpenAPI | none |
| ``FORECASTING_API_WORKERS`` | API worker processes | 1 |
| ``FORECASTING_ARTIFACT_ROOT`` | artifacts of new experiments when ``MLFLOW_TRACKING_URI`` is a database (``postgresql+psycopg2://...``) rather than a server | ``<models>/artifacts`` |

:func:`current` reads them when called (a test or a command that sets one sees it at once);
nothing else in the package reads the environment.

Example:
    >>> s = current({"FORECASTING_MODELS_DIR": "/srv/models", "FORECASTING_API_WORKERS": "2"})
    >>> str(s.snapshot_root), s.snapshot_dir, s.api_workers, s.tracking_uri is None
    ('/srv/models/snapshots', None, 2, True)
    >>> current({"FORECASTING_RELOAD_SECONDS": "1.5"}).reload_seconds
    1.5
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
#: frequencies demand series are built at from orders (their calendars: demand/freq.py)
ORDER_FREQS = ("W", "MS", "D")
DEFAULT_HORIZON = 12  #: forecast periods
DEFAULT_LEVELS = (80, 95)  #: prediction interval levels, %

MODELS_DIR_ENV = "FORECASTING_MODELS_DIR"
TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"
SNAPSHOT_DIR_ENV = "FORECASTING_SNAPSHOT_DIR"
SNAPSHOT_ROOT_ENV = "FORECASTING_SNAPSHOT_ROOT"
RELOAD_SECONDS_ENV = "FORECASTING_RELOAD_SECONDS"
API_KEY_ENV = "FORECASTING_API_KEY"
API_WORKERS_ENV = "FORECASTING_API_WORKERS"
ARTIFACT_ROOT_ENV = "FORECASTING_ARTIFACT_ROOT"


@dataclass(frozen=True)
class Settings:
    models_dir: Path
    tracking_uri: str | None  # None: the local SQLite store under models_dir
    snapshot_root: Path  # the store of snapshot versions (see forecasting.pipelines.store)
    snapshot_dir: Path | None  # a fixed folder served as is; None: the store's CURRENT
    api_key: str | None
    api_workers: int
    reload_seconds: float  # the API's polling interval for new snapshots and champions
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
    reload = env.get(RELOAD_SECONDS_ENV) or "30"
    try:
        reload_seconds = float(reload)
        if not reload_seconds > 0:
            raise ValueError
    except ValueError:
        raise ForecastingError(
            f"{RELOAD_SECONDS_ENV} must be a positive number of seconds, got {reload!r}"
        ) from None
    fixed = env.get(SNAPSHOT_DIR_ENV)
    return Settings(
        models_dir=models,
        tracking_uri=env.get(TRACKING_URI_ENV) or None,
        snapshot_root=Path(env.get(SNAPSHOT_ROOT_ENV) or models / "snapshots").resolve(),
        snapshot_dir=Path(fixed).resolve() if fixed else None,
        api_key=env.get(API_KEY_ENV) or None,
        api_workers=n_workers,
        reload_seconds=reload_seconds,
        artifact_root=Path(env.get(ARTIFACT_ROOT_ENV) or models / "artifacts"),
    )
