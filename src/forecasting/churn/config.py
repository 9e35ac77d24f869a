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

import tomllib
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from forecasting.errors import ForecastingError
from forecasting.settings import DEFAULT_CHURN_HORIZON_DAYS, DEFAULT_LOOKBACK_DAYS

EXPERIMENT = "churn"
MODEL_NAME = "churn"  # time-based models (the champion behind `forecasting score`)
TABLE_MODEL_NAME = "churn_table"  # --table models: other features, so another registered model
DEFAULT_BANDS = (0.3, 0.6)
# the competing churn models, smallest first (see forecasting.churn.candidates)
CANDIDATES = ("recency", "logreg", "logreg_splines", "lgbm_default", "lgbm_tuned", "blend")
DEFAULT_TRIALS = 40  # settings tried by the LightGBM search


@dataclass(frozen=True)
class ChurnConfig:
    """Everything a churn training run depends on besides the data.

    * ``horizon_days`` -- churn = no completed order in ``(cutoff, cutoff + horizon_days]``
    * ``lookback_days`` -- a customer is active at a cutoff with an order in the lookback
    * ``n_cutoffs`` / ``cutoff_step_days`` -- training cutoffs, every ``step`` days, the
      latest at least one horizon before the validation cutoff (no label window of a
      training row overlaps the validation labels)
    * ``n_validation_cutoffs`` -- the latest cutoffs whose label windows end on or before the
      holdout cutoff: where candidates are compared and calibrated
    * ``candidates`` -- which of :data:`forecasting.churn.candidates.CANDIDATES` compete
    * ``trials`` -- settings tried by the LightGBM search (``lgbm_tuned``)
    * ``calibration`` -- ``auto`` (lowest cross-fitted validation log loss of none, sigmoid,
      isotonic) or one of them
    * ``validation_fraction`` -- the stratified share of the training rows the LightGBM
      search is judged on (the time mode judges it on the latest training cutoff instead;
      candidates are compared on other rows: a later cutoff, or out-of-fold predictions)
    * ``bands`` -- churn-probability thresholds between the low/medium/high risk bands

    No model setting lives here: the candidates and their settings are chosen on the
    validation rows of the data at hand.
    """

    horizon_days: int = DEFAULT_CHURN_HORIZON_DAYS
    lookback_days: int = DEFAULT_LOOKBACK_DAYS
    n_cutoffs: int = 6
    cutoff_step_days: int = 30
    n_validation_cutoffs: int = 1
    candidates: tuple[str, ...] = CANDIDATES
    trials: int = DEFAULT_TRIALS
    calibration: str = "auto"  # auto | none | sigmoid | isotonic
    validation_fraction: float = 0.2  # share of training rows the LightGBM search judges on
    cv_folds: int = 5
    seed: int = 0
    bands: tuple[float, float] = DEFAULT_BANDS

    def __post_init__(self) -> None:
        object.__setattr__(self, "bands", tuple(float(b) for b in self.bands))
        object.__setattr__(self, "candidates", tuple(self.candidates))
        if self.horizon_days < 1:
            raise ForecastingError(f"horizon_days must be at least 1 day, got {self.horizon_days}")
        if self.n_cutoffs < 1:
            raise ForecastingError(f"n_cutoffs must be at least 1, got {self.n_cutoffs}")
        if self.n_validation_cutoffs < 1:
            raise ForecastingError(
                f"n_validation_cutoffs must be at least 1, got {self.n_validation_cutoffs}")
        unknown = sorted(set(self.candidates) - set(CANDIDATES))
        if unknown or not self.candidates:
            raise ForecastingError(
                f"candidates must be some of {', '.join(CANDIDATES)}; got "
                f"{', '.join(self.candidates) or 'none'}")
        if self.trials < 1:
            raise ForecastingError(f"--trials must be at least 1, got {self.trials}")
        if self.calibration not in ("auto", "none", "sigmoid", "isotonic"):
            raise ForecastingError(
                f"calibration must be auto, none, sigmoid or isotonic, got {self.calibration!r}")
        if not 0.05 <= self.validation_fraction <= 0.5:
            raise ForecastingError(
                f"validation_fraction must be between 0.05 and 0.5, got "
                f"{self.validation_fraction}")
        if self.cv_folds < 2:
            raise ForecastingError(f"--cv needs at least 2 folds, got {self.cv_folds}")
        check_bands(self.bands)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["bands"] = list(self.bands)
        d["candidates"] = list(self.candidates)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ChurnConfig:
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in known}
        if "bands" in kw:
            kw["bands"] = tuple(float(b) for b in kw["bands"])
        return cls(**kw)


def load_config(path: str | Path | None = None, **overrides: Any) -> ChurnConfig:
    """A config from a TOML file (keys = :class:`ChurnConfig` fields), then ``overrides``
    that are not None.

    Unknown keys are an error naming them (a typo must not be silently ignored).
    """
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text())
        except FileNotFoundError:
            raise ForecastingError(f"{path}: config file not found") from None
        except tomllib.TOMLDecodeError as exc:
            raise ForecastingError(f"{path}: not valid TOML: {exc}") from None
        data = data.get("churn", data)
        known = {f.name for f in fields(ChurnConfig)}
        unknown = sorted(set(data) - known)
        if unknown:
            hint = (" (tree settings are searched on validation data now: see --trials)"
                    if "lightgbm" in unknown else "")
            raise ForecastingError(
                f"{path}: unknown setting(s) {unknown}; known: {sorted(known)}{hint}")
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
