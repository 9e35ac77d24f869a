"""MLflow at the edge: the only module that imports ``mlflow``.

Where runs go: ``MLFLOW_TRACKING_URI`` when set (any tracking server), else a local SQLite
store ``models/mlflow.db`` with artifacts under ``models/artifacts`` (``models/`` is
``FORECASTING_MODELS_DIR`` when set, else ``./models``).

A training pipeline does::

    with tracking.run("churn", run_name="monthly") as run_id:
        tracking.log_params({...}); tracking.log_metrics({...})
        tracking.log_figure(fig, "plots/roc.png")
        ref = tracking.log_model(model, "churn", input_example=X.head(5))

``log_model`` wraps any picklable object with ``predict(DataFrame) -> DataFrame`` in an MLflow
pyfunc (so ``predict`` returns what the object returns, e.g. probabilities and reasons, not
labels) and registers a new version. The alias ``challenger`` is set only when the ``run``
block ends without an error: a failed run never touches the aliases. ``promote`` moves
``champion`` to the challenger only when the family's ``decide`` function approves.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from forecasting import settings
from forecasting.errors import ForecastingError
from importlib.metadata import version

log = logging.getLogger(__name__)

CHAMPION = "champion"
CHALLENGER = "challenger"

_pending_versions: list[tuple[str, str]] = []  # (model name, version) registered in the open run


def models_dir() -> Path:
    """The folder holding the local MLflow store and other model files on this machine."""
    return settings.current().models_dir


def _is_local_default() -> bool:
    return settings.current().tracking_uri is None


def tracking_uri() -> str:
    """``MLFLOW_TRACKING_URI`` when set, else the SQLite store under :func:`models_dir`."""
    uri = settings.current().tracking_uri
    if uri:
        return uri
    return f"sqlite:///{models_dir() / 'mlflow.db'}"


_QUIET = False


def _quiet_mlflow() -> None:
    """MLflow announces database migrations and pickling at INFO/WARNING on every command;
    keep the user's terminal for our own messages (``-v`` still shows ours)."""
    global _QUIET
    for name in ("mlflow", "alembic"):  # every time: MLflow re-configures its loggers when
        logging.getLogger(name).setLevel(logging.ERROR)  # some of its modules are imported
    if _QUIET:
        return
    _QUIET = True
    warnings.filterwarnings("ignore", message=".*Add type hints to the `predict` method.*")
    warnings.filterwarnings("ignore", category=UserWarning, module="mlflow.*")


def configure() -> str:
    """Point MLflow at :func:`tracking_uri` (creating the local folder) and return the URI."""
    _quiet_mlflow()
    uri = tracking_uri()
    if _is_local_default():
        models_dir().mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


def _client() -> MlflowClient:
    configure()
    return MlflowClient()


def is_server(uri: str) -> bool:
    """Whether ``uri`` is a tracking server (it stores artifacts itself) rather than a
    database this process writes to directly."""
    return uri.split(":", 1)[0] in ("http", "https", "databricks")


def artifact_location(name: str, uri: str | None = None) -> str | None:
    """Where experiment ``name`` keeps its artifacts when this process creates it.

    * a tracking server (``http://...``): None, the server decides (``--artifacts-destination``);
    * the local SQLite store: ``artifacts/<name>`` beside the database file;
    * a database written directly (``postgresql+psycopg2://...``, ``mysql://...``):
      ``FORECASTING_ARTIFACT_ROOT/<name>`` (default ``<models>/artifacts``) -- MLflow's own
      default would be ``./mlruns`` under whatever folder the command runs in, which another
      machine of the team cannot read.
    """
    uri = uri or tracking_uri()
    if is_server(uri):
        return None
    if uri.startswith("sqlite:///"):  # a local store: artifacts beside the database file
        return (Path(uri[len("sqlite:///"):]).parent / "artifacts" / name).as_uri()
    root = settings.current().artifact_root
    if "://" in str(root):  # already a URI (s3://, gs://, file:///...)
        return f"{str(root).rstrip('/')}/{name}"
    return (Path(root).resolve() / name).as_uri()


def _experiment_id(name: str) -> str:
    client = _client()
    exp = client.get_experiment_by_name(name)
    if exp is not None:
        return exp.experiment_id
    try:
        return client.create_experiment(name, artifact_location=artifact_location(name))
    except MlflowException:  # another process (a second training run) created it meanwhile
        exp = client.get_experiment_by_name(name)
        if exp is None:
            raise
        return exp.experiment_id


@contextlib.contextmanager
def run(experiment: str, run_name: str | None = None,
        tags: dict[str, str] | None = None) -> Iterator[str]:
    """An MLflow run in ``experiment``; yields the run id.

    On success every model version registered inside the block gets the ``challenger`` alias.
    On an exception the run is marked FAILED, its versions are tagged ``failed`` and no alias
    moves; the exception propagates.
    """
    exp_id = _experiment_id(experiment)
    _pending_versions.clear()
    with mlflow.start_run(experiment_id=exp_id, run_name=run_name, tags=tags) as active:
        run_id = active.info.run_id
        try:
            yield run_id
        except BaseException:
            client = MlflowClient()
            for name, version in _pending_versions:
                client.set_model_version_tag(name, version, "status", "failed")
            _pending_versions.clear()
            log.warning("run %s failed; no alias was moved", run_id)
            raise
    client = MlflowClient()
    for name, version in _pending_versions:
        set_alias(name, CHALLENGER, version, client)
        log.info("registered %s version %s as %s", name, version, CHALLENGER)
    _pending_versions.clear()


def set_alias(name: str, alias: str, version: str, client: MlflowClient | None = None,
              attempts: int = 4) -> None:
    """Point ``alias`` of ``name`` at ``version``, retrying a few times: two processes setting
    the same alias at the same moment (two trainings of a team ending together) race on the
    database row, and the loser gets an integrity error; trying again after it settles wins."""
    client = client or MlflowClient()
    for attempt in range(attempts):
        try:
            client.set_registered_model_alias(name, alias, version)
            return
        except MlflowException as exc:
            if attempt == attempts - 1:
                raise
            log.debug("setting %s of %s to %s failed (%s); trying again", alias, name,
                      version, str(exc).splitlines()[0] if str(exc) else exc)
            time.sleep(0.2 * (attempt + 1))


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def log_params(params: dict[str, Any]) -> None:
    """Log (nested) params; values longer than MLflow's limit are cut with a marker."""
    flat = {k: (str(v) if len(str(v)) <= 6000 else str(v)[:5990] + "...[cut]")
            for k, v in _flatten(params).items()}
    mlflow.log_params(flat)


def log_metrics(metrics: dict[str, float], step: int | None = None) -> None:
    """Log finite numeric metrics; NaN/inf ones are skipped with a debug message."""
    clean = {}
    for k, v in metrics.items():
        try:
            f = float(v)
        except (TypeError, ValueError):
            continue
        if f == f and abs(f) != float("inf"):
            clean[k] = f
        else:
            log.debug("metric %s is not finite (%s); not logged", k, v)
    mlflow.log_metrics(clean, step=step)


def set_tags(tags: dict[str, Any]) -> None:
    mlflow.set_tags({k: str(v) for k, v in tags.items()})


def log_figure(fig: Any, artifact_file: str) -> None:
    """Log a matplotlib figure as an image artifact and close it."""
    mlflow.log_figure(fig, artifact_file)
    try:
        # matplotlib is already loaded when a figure is logged
        import matplotlib.pyplot as plt

        plt.close(fig)
    except Exception:  # pragma: no cover - closing is best effort
        pass


def log_dict(d: dict[str, Any], artifact_file: str) -> None:
    mlflow.log_dict(d, artifact_file)


def log_table(df: pd.DataFrame, artifact_file: str) -> None:
    """Log a DataFrame as a .parquet or .csv artifact (by the file's extension)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(artifact_file).name
        if path.suffix == ".csv":
            df.to_csv(path, index=False)
        else:
            df.to_parquet(path, index=False)
        parent = str(Path(artifact_file).parent)
        mlflow.log_artifact(str(path), artifact_path=None if parent == "." else parent)


def log_artifact(local_path: str | Path, artifact_path: str | None = None) -> None:
    mlflow.log_artifact(str(local_path), artifact_path=artifact_path)


class _PyfuncModel(mlflow.pyfunc.PythonModel):
    """Wraps one of our model objects; ``predict`` returns the object's own output.

    The ``pd.DataFrame`` hint tells MLflow to take the signature from the input example
    (and not to warn about missing type hints)."""

    def __init__(self, model: Any):
        self.model = model

    def predict(self, context, model_input: pd.DataFrame, params=None):  # noqa: D401
        return self.model.predict(model_input)


def default_pip_requirements() -> list[str]:
    """Pinned requirements of a logged model (passed explicitly: inference is slow)."""
    pkgs = ["pandas", "numpy", "scikit-learn", "lightgbm", "statsmodels", "scipy", "mlflow"]
    return [f"{p}=={version(p)}" for p in pkgs]


@dataclass
class ModelRef:
    """A registered model version and what its run recorded."""

    name: str
    version: str
    run_id: str
    created: datetime
    aliases: list[str] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "run_id": self.run_id,
                "created": self.created.isoformat(), "aliases": self.aliases,
                "metrics": self.metrics}


def log_model(model: Any, registered_model_name: str, input_example: pd.DataFrame,
              name: str = "model", pip_requirements: list[str] | None = None,
              metadata: dict[str, Any] | None = None) -> str:
    """Log ``model`` as a pyfunc in the active run and register a new version; returns it.

    The version gets the ``challenger`` alias when the enclosing :func:`run` block succeeds.
    """
    _quiet_mlflow()
    info = mlflow.pyfunc.log_model(
        name=name,
        python_model=_PyfuncModel(model),
        input_example=input_example,
        pip_requirements=pip_requirements or default_pip_requirements(),
        registered_model_name=registered_model_name,
        metadata=metadata,
    )
    version = str(info.registered_model_version)
    _pending_versions.append((registered_model_name, version))
    return version


def _ref(mv: Any) -> ModelRef:
    client = MlflowClient()
    metrics: dict[str, float] = {}
    params: dict[str, str] = {}
    if mv.run_id:
        try:
            data = client.get_run(mv.run_id).data
            metrics, params = dict(data.metrics), dict(data.params)
        except MlflowException:
            pass
    return ModelRef(
        name=mv.name, version=str(mv.version), run_id=mv.run_id,
        created=datetime.fromtimestamp(mv.creation_timestamp / 1000, tz=timezone.utc),
        aliases=list(getattr(mv, "aliases", []) or []), metrics=metrics, params=params,
        tags=dict(mv.tags or {}),
    )


def get_version(name: str, alias: str = CHAMPION) -> ModelRef | None:
    """The version of ``name`` holding ``alias``, or None when there is none."""
    client = _client()
    try:
        return _ref(client.get_model_version_by_alias(name, alias))
    except MlflowException:
        return None


def alias_version(name: str, alias: str = CHAMPION) -> str | None:
    """The version number holding ``alias`` of ``name``, None when there is none; unlike
    :func:`get_version`, a registry that cannot be reached is a ForecastingError (a serving
    process must tell "no champion" from "cannot ask")."""
    try:
        return str(_client().get_model_version_by_alias(name, alias).version)
    except MlflowException as exc:
        if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None
        raise ForecastingError(f"the MLflow registry at {tracking_uri()} cannot be read: "
                               f"{str(exc).splitlines()[0]}") from None
    except Exception as exc:  # the store's driver (SQLAlchemy, HTTP) raises its own types
        raise ForecastingError(f"the MLflow registry at {tracking_uri()} cannot be read: "
                               f"{type(exc).__name__}: {str(exc).splitlines()[0]}") from None


def get_model_version(name: str, version: str) -> ModelRef | None:
    """Version ``version`` of ``name`` with its run's params and metrics, or None."""
    client = _client()
    try:
        return _ref(client.get_model_version(name, str(version)))
    except MlflowException:
        return None


def load_json_artifact(run_id: str, artifact_path: str) -> dict[str, Any] | None:
    """A JSON artifact of a run (e.g. a churn model's ``reference.json``), or None when the
    run has no such file."""
    configure()
    try:
        return mlflow.artifacts.load_dict(f"runs:/{run_id}/{artifact_path}")
    except (MlflowException, OSError) as exc:
        log.debug("no artifact %s in run %s: %s", artifact_path, run_id, exc)
        return None


def version_of_run(name: str, run_id: str) -> ModelRef | None:
    """The version of ``name`` registered by ``run_id``, or None."""
    client = _client()
    for mv in client.search_model_versions(f"name='{name}'"):
        if mv.run_id == run_id:
            return _ref(mv)
    return None


def load_model(name: str, alias: str = CHAMPION) -> tuple[Any, ModelRef]:
    """Our model object behind alias ``alias`` of ``name``, and its version."""
    ref = get_version(name, alias)
    if ref is None:
        raise ForecastingError(
            f"no '{alias}' version of model '{name}' in the MLflow registry at "
            f"{tracking_uri()}: run 'forecasting train {name} ...' and then "
            f"'forecasting promote {name}'")
    return load_version(ref), ref


def load_version(ref: ModelRef) -> Any:
    """The model object of a registered version. A version pickled by a release whose
    classes no longer exist (moved or removed modules) fails with a message to retrain."""
    try:
        pyfunc = mlflow.pyfunc.load_model(ref.uri)
    except (ModuleNotFoundError, AttributeError, ImportError) as exc:
        raise ForecastingError(
            f"model '{ref.name}' version {ref.version} was saved by an older release of "
            f"forecasting and cannot be loaded by this one ({exc}); retrain it with "
            f"'forecasting train {ref.name.split('_')[0]} ...' and promote the new version"
        ) from None
    return pyfunc.unwrap_python_model().model


def download_artifact(run_id: str, artifact_path: str, dst: str | Path | None = None) -> Path:
    """Download one artifact (file or folder) of a run; returns the local path."""
    configure()
    local = mlflow.artifacts.download_artifacts(
        run_id=run_id, artifact_path=artifact_path,
        dst_path=str(dst) if dst is not None else None)
    return Path(local)


@dataclass
class PromotionResult:
    promoted: bool
    reason: str
    challenger: ModelRef | None
    champion_before: ModelRef | None


Decide = Callable[[ModelRef, ModelRef], tuple[bool, str]]


def promote(name: str, decide: Decide, run_id: str | None = None) -> PromotionResult:
    """Move ``champion`` of ``name`` to the challenger when ``decide`` approves.

    The challenger is the version registered by ``run_id`` when given, else the version with
    alias ``challenger``. With no champion yet, the challenger becomes champion. The decision
    and its reason are stored as tags on the challenger version.
    """
    client = _client()
    challenger = version_of_run(name, run_id) if run_id else get_version(name, CHALLENGER)
    if challenger is None:
        what = f"registered by run {run_id}" if run_id else f"with alias '{CHALLENGER}'"
        raise ForecastingError(
            f"no version of model '{name}' {what}: train one first with "
            f"'forecasting train {name} ...'")
    if challenger.tags.get("status") == "failed":
        raise ForecastingError(f"{name} version {challenger.version} comes from a failed run")
    champion = get_version(name, CHAMPION)
    if champion is None:
        ok, reason = True, "no champion yet: the first model becomes champion"
    elif champion.version == challenger.version:
        ok, reason = False, f"version {challenger.version} is already the champion"
    else:
        ok, reason = decide(champion, challenger)
    client.set_model_version_tag(name, challenger.version, "promotion_decision",
                                 "promoted" if ok else "rejected")
    client.set_model_version_tag(name, challenger.version, "promotion_reason", reason[:5000])
    if ok:
        set_alias(name, CHAMPION, challenger.version, client)
    return PromotionResult(promoted=ok, reason=reason, challenger=challenger,
                           champion_before=champion)


def search_runs(experiment: str, filter_string: str = "") -> list[dict[str, Any]]:
    """Runs of ``experiment`` matching an MLflow filter (e.g. ``tags.snapshot_id = 'x'``),
    newest first: ``run_id``, ``tags``, ``metrics``, ``params``."""
    client = _client()
    exp = client.get_experiment_by_name(experiment)
    if exp is None:
        return []
    runs = client.search_runs([exp.experiment_id], filter_string=filter_string,
                              order_by=["attributes.start_time DESC"])
    return [{"run_id": r.info.run_id, "tags": dict(r.data.tags), "metrics": dict(r.data.metrics),
             "params": dict(r.data.params)} for r in runs]
