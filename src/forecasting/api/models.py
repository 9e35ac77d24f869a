"""Request and response bodies of the HTTP API (pydantic), with every field validated.

Kept apart from :mod:`forecasting.api.service` (the one module that imports ``bentoml``) so that the
contract can be read, tested and reused without starting a server. NaN and infinity are
rejected everywhere (``allow_inf_nan=False``); unknown fields are rejected (``extra="forbid"``)
so that a misspelt field is a 400, not silently ignored.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from forecasting.settings import DEFAULT_FREQ, DEFAULT_HORIZON, DEFAULT_LEVELS, ORDER_FREQS

MAX_BATCH = 10_000
MAX_HISTORY_ROWS = 200_000

_STRICT = ConfigDict(extra="forbid", allow_inf_nan=False, str_strip_whitespace=True)

Id = Annotated[str, Field(min_length=1, max_length=128, description="an id of the data set")]
FeatureValue = float | int | str | bool | None
Level = Annotated[int, Field(ge=1, le=99, description="interval level in percent")]


class ChurnScoreRequest(BaseModel):
    """Either ``customer_ids`` (answered from the latest scored snapshot) or ``rows``
    (feature values sent in the request, scored by the champion model) — exactly one."""

    model_config = _STRICT
    customer_ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_BATCH)] | None = None
    rows: Annotated[
        list[dict[Annotated[str, Field(min_length=1, max_length=128)], FeatureValue]],
        Field(min_length=1, max_length=MAX_BATCH),
    ] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ChurnScoreRequest:
        if (self.customer_ids is None) == (self.rows is None):
            raise ValueError("send exactly one of 'customer_ids' (1 to 10000 ids) or 'rows' "
                             "(1 to 10000 feature rows)")
        return self


class Reason(BaseModel):
    feature: str
    value: float | str | None = None
    text: str


class ChurnScore(BaseModel):
    customer_id: str | None = None
    churn_probability: float | None = None
    risk_band: str | None = None
    segment: str | None = None
    reasons: list[Reason] = Field(default_factory=list)
    model_version: str | None = None
    error: str | None = Field(None, description="set when this item could not be scored")


class ChurnScoreResponse(BaseModel):
    items: list[ChurnScore]
    model_version: str | None = None
    as_of: str | None = Field(None, description="the as-of date of the snapshot this answer "
                              "came from (scores by id are as of it; feature rows are scored "
                              "now, their segment is as of it)")


class HistoryRow(BaseModel):
    model_config = _STRICT
    unique_id: Id
    ds: date
    y: Annotated[float, Field(ge=-1e12, le=1e12)]


class ForecastRequest(BaseModel):
    """Either ``product_ids`` (from the latest forecasts) or ``history`` (forecast from it)."""

    model_config = _STRICT
    product_ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_BATCH)] | None = None
    history: Annotated[list[HistoryRow], Field(min_length=1, max_length=MAX_HISTORY_ROWS)] | None = None
    horizon: Annotated[int, Field(ge=1, le=366)] = DEFAULT_HORIZON
    freq: Literal[ORDER_FREQS] = DEFAULT_FREQ
    levels: Annotated[list[Level], Field(min_length=1, max_length=5)] = list(DEFAULT_LEVELS)

    @model_validator(mode="after")
    def _exactly_one(self) -> ForecastRequest:
        if (self.product_ids is None) == (self.history is None):
            raise ValueError("send exactly one of 'product_ids' or 'history'")
        return self


class ForecastPoint(BaseModel):
    unique_id: str
    ds: str
    yhat: float
    lo: dict[str, float] = Field(default_factory=dict, description="lower bound by level")
    hi: dict[str, float] = Field(default_factory=dict, description="upper bound by level")
    yhat_churn_adjusted: float | None = Field(
        default=None, description="the forecast without the expected volume of customers "
        "likely to churn; present when the snapshot was built with --churn-adjust")


AS_OF = "the as-of date of the snapshot this answer came from"


class ForecastResponse(BaseModel):
    points: list[ForecastPoint]
    errors: dict[str, str] = Field(default_factory=dict, description="per unknown product id")
    model_version: str | None = None
    as_of: str | None = Field(None, description=AS_OF)


class InventoryRow(BaseModel):
    model_config = _STRICT
    product_id: Id
    on_hand: Annotated[float, Field(ge=0, le=1e12)]
    lead_time_days: Annotated[float, Field(ge=0, le=730)] | None = None
    min_batch: Annotated[float, Field(ge=0, le=1e12)] | None = None
    unit_cost: Annotated[float, Field(ge=0, le=1e12)] | None = None


class PlanRequest(BaseModel):
    model_config = _STRICT
    inventory: Annotated[list[InventoryRow], Field(min_length=1, max_length=MAX_BATCH)]
    service_level: Annotated[float, Field(ge=0.5, le=0.999, description="probability of not running out during the lead time")] = 0.95


class PlanResponse(BaseModel):
    rows: list[dict[str, float | str | None]]
    errors: dict[str, str] = Field(default_factory=dict)
    as_of: str | None = Field(None, description=AS_OF)
    model_version: str | None = Field(None, description="the demand model used")


class SegmentsRequest(BaseModel):
    model_config = _STRICT
    customer_ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_BATCH)]


class SegmentsResponse(BaseModel):
    rows: list[dict[str, float | int | str | None]]
    errors: dict[str, str] = Field(default_factory=dict)
    as_of: str | None = Field(None, description=AS_OF)
    model_version: str | None = Field(None, description="the churn model behind the rows' "
                                      "churn columns")


class KpisRequest(BaseModel):
    model_config = _STRICT
    periods: Annotated[list[Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]],
                       Field(min_length=1, max_length=240,
                             description="months as YYYY-MM, e.g. ['2024-05']")]
    scope: Literal["overall", "segment", "customer"] = "overall"
    customer_ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_BATCH)] | None = None


class KpisResponse(BaseModel):
    rows: list[dict[str, float | int | str | None]]
    as_of: str | None = Field(None, description=AS_OF)


class ModelInfo(BaseModel):
    name: str
    version: str | None = None
    trained_at: str | None = None
    run_id: str | None = None
    metrics: dict[str, float] = Field(default_factory=dict)
    loaded: bool = False
    note: str | None = None


class ModelInfoResponse(BaseModel):
    models: list[ModelInfo]
    snapshot_as_of: str | None = None
    snapshot_id: str | None = Field(None, description="the snapshot store's id of the served "
                                    "snapshot (None for a fixed FORECASTING_SNAPSHOT_DIR)")


class ReloadResponse(BaseModel):
    reloaded: list[str] = Field(default_factory=list, description="what was swapped in: "
                                "'snapshot', 'churn vN', 'demand vN'; empty when nothing changed")
    snapshot_id: str | None = None
    as_of: str | None = None
    models: dict[str, str | None] = Field(default_factory=dict,
                                          description="the served model versions by name")
    errors: list[str] = Field(default_factory=list, description="what failed to load (the "
                              "working snapshot and models keep serving)")
    seconds: float = 0.0
