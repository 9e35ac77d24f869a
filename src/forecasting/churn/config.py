"""Typed, small churn configuration: logged with every run and stored inside the model.

Example:
    >>> from forecasting.churn.config import ChurnConfig
    >>> cfg = ChurnConfig(horizon_days=60)
    >>> cfg.to_dict()["horizon_days"]
    60
    >>> ChurnConfig.from_dict(cfg.to_dict()) == cfg
    True
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from forecasting.errors import ForecastingError

EXPERIMENT = "churn"
MODEL_NAME = "churn"  # time-based models (the champion behind `forecasting score`)
TABLE_MODEL_NAME = "churn_table"  # --table models: other features, so another registered model
DEFAULT_BANDS = (0.3, 0.6)


@dataclass(frozen=True)
class LightGBMParams:
    """Hyperparameters of :class:`forecasting.churn.estimators.LightGBMChurn`.

    Shallow, strongly regularised trees with a small learning rate; the number of trees is
    found by early stopping on a validation fold (``max_trees`` is only the ceiling).
    """

    learning_rate: float = 0.01
    num_leaves: int = 3
    min_child_samples: int = 100
    reg_lambda: float = 10.0
    subsample: float = 0.7
    colsample_bytree: float = 0.5
    max_trees: int = 5000
    early_stopping_rounds: int = 200


@dataclass(frozen=True)
class ChurnConfig:
    """Everything a churn training run depends on besides the data.

    * ``horizon_days`` -- churn = no completed order in ``(cutoff, cutoff + horizon_days]``
    * ``lookback_days`` -- a customer is active at a cutoff with an order in the lookback
    * ``n_cutoffs`` / ``cutoff_step_days`` -- training cutoffs, every ``step`` days before
      the holdout cutoff; the latest one is the validation fold (early stopping, calibration)
    * ``model`` -- ``blend`` (LightGBM + spline logistic averaged with ``blend_weight`` on
      LightGBM), ``lightgbm`` or ``logistic``
    * ``blend_weight`` -- a number, or ``auto`` (the best validation ROC AUC of 0, .25, .5,
      .75, 1). Default (None): ``auto`` in time mode, where the validation fold is a whole
      later cutoff; 0.5 in ``--table`` mode, where a random 20 % split is too noisy to choose
      (measured on Telco: the choice swung between 0 and 1 across CV folds)
    * ``refit`` -- refit the trees on training + validation rows after early stopping.
      Default (None): yes in ``--table`` mode (more rows), no in time mode (the calibration
      learnt on the later validation cutoff then matches the model it calibrates)
    * ``bands`` -- churn-probability thresholds between the low/medium/high risk bands
    """

    horizon_days: int = 90
    lookback_days: int = 365
    n_cutoffs: int = 6
    cutoff_step_days: int = 30
    model: str = "blend"
    blend_weight: float | str | None = None  # None: "auto" in time mode, 0.5 with --table
    refit: bool | None = None  # refit on train + validation; None: only with --table
    calibration: str = "auto"  # auto | none | sigmoid | isotonic
    validation_fraction: float = 0.2  # table mode: stratified split inside each fit
    cv_folds: int = 5
    seed: int = 0
    bands: tuple[float, float] = DEFAULT_BANDS
    lightgbm: LightGBMParams = field(default_factory=LightGBMParams)

    def __post_init__(self) -> None:
        if isinstance(self.lightgbm, dict):  # ChurnConfig(lightgbm={"max_trees": 400})
            object.__setattr__(self, "lightgbm", LightGBMParams(**self.lightgbm))
        object.__setattr__(self, "bands", tuple(float(b) for b in self.bands))
        if self.horizon_days < 1:
            raise ForecastingError(f"horizon_days must be at least 1 day, got {self.horizon_days}")
        if self.n_cutoffs < 2:
            raise ForecastingError(
                f"n_cutoffs must be at least 2 (one to train, one to validate), got {self.n_cutoffs}")
        if self.model not in ("blend", "lightgbm", "logistic"):
            raise ForecastingError(
                f"model must be blend, lightgbm or logistic, got {self.model!r}")
        if self.calibration not in ("auto", "none", "sigmoid", "isotonic"):
            raise ForecastingError(
                f"calibration must be auto, none, sigmoid or isotonic, got {self.calibration!r}")
        w = self.blend_weight
        if not (w is None or w == "auto" or (isinstance(w, (int, float)) and 0 <= w <= 1)):
            raise ForecastingError(f"blend_weight must be between 0 and 1 or 'auto', got {w!r}")
        if self.cv_folds < 2:
            raise ForecastingError(f"--cv needs at least 2 folds, got {self.cv_folds}")
        check_bands(self.bands)

    def for_mode(self, mode: str) -> dict[str, Any]:
        """Estimator settings with the mode defaults filled in (mode: time or table)."""
        weight = self.blend_weight
        if weight is None:
            weight = "auto" if mode == "time" else 0.5
        refit = self.refit if self.refit is not None else mode == "table"
        return {"blend_weight": weight, "refit": refit}

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["bands"] = list(self.bands)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ChurnConfig:
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in known}
        if "lightgbm" in kw and isinstance(kw["lightgbm"], dict):
            kw["lightgbm"] = LightGBMParams(**kw["lightgbm"])
        if "bands" in kw:
            kw["bands"] = tuple(float(b) for b in kw["bands"])
        return cls(**kw)


def load_config(path: str | Path | None = None, **overrides: Any) -> ChurnConfig:
    """A config from a TOML file (keys = :class:`ChurnConfig` fields, a ``[lightgbm]``
    table for the tree settings), then ``overrides`` that are not None.

    Unknown keys are an error naming them (a typo must not be silently ignored).
    """
    data: dict[str, Any] = {}
    if path is not None:
        import tomllib

        try:
            data = tomllib.loads(Path(path).read_text())
        except FileNotFoundError:
            raise ForecastingError(f"{path}: config file not found") from None
        except tomllib.TOMLDecodeError as exc:
            raise ForecastingError(f"{path}: not valid TOML: {exc}") from None
        data = data.get("churn", data)
        known = {f.name for f in fields(ChurnConfig)}
        unknown = sorted(set(data) - known)
        tree_known = {f.name for f in fields(LightGBMParams)}
        unknown += [f"lightgbm.{k}" for k in sorted(set(data.get("lightgbm", {})) - tree_known)]
        if unknown:
            raise ForecastingError(
                f"{path}: unknown setting(s) {unknown}; known: {sorted(known)} and "
                f"lightgbm.{{{', '.join(sorted(tree_known))}}}")
    data |= {k: v for k, v in overrides.items() if v is not None}
    try:
        return ChurnConfig.from_dict(data)
    except TypeError as exc:
        raise ForecastingError(f"churn config: {exc}") from None


def check_bands(bands: tuple[float, ...] | list[float]) -> tuple[float, float]:
    """Two increasing thresholds in (0, 1): low < b0 <= medium < b1 <= high."""
    bands = tuple(float(b) for b in bands)
    if len(bands) != 2 or not (0.0 < bands[0] < bands[1] < 1.0):
        raise ForecastingError(
            f"risk bands must be two increasing probabilities between 0 and 1 like 0.3,0.6; "
            f"got {','.join(str(b) for b in bands)}")
    return bands  # type: ignore[return-value]


def parse_bands(text: str) -> tuple[float, float]:
    """``"0.3,0.6"`` -> ``(0.3, 0.6)``, with a clear error for anything else."""
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ForecastingError(
            f"--bands must be two comma-separated probabilities like 0.3,0.6; got {text!r}"
        ) from None
    return check_bands(values)
