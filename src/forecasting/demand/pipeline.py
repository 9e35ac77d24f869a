"""The demand pipeline: validate, backtest the candidates, choose, fit, forecast, intervals.

:func:`forecast` is what ``forecasting forecast`` runs; :func:`fit_model` is what
``forecasting train demand`` runs before logging to MLflow; :class:`DemandModel` is the
object that gets registered (its ``predict`` takes a long history table and returns the
forecast table) and :func:`latest_forecasts` serves per-product forecasts from orders.

Example:
    >>> import numpy as np, pandas as pd
    >>> ds = pd.date_range("2020-01-01", periods=48, freq="MS")
    >>> df = pd.DataFrame({"unique_id": "a", "ds": ds,
    ...                    "y": 10 + 3 * np.sin(np.arange(48) * np.pi / 6)})
    >>> out = forecast(df, horizon=3, freq="MS", candidates=["seasonal_naive", "theta"],
    ...                progress=False).table
    >>> list(out.columns)
    ['unique_id', 'ds', 'yhat', 'yhat_lo_80', 'yhat_hi_80', 'yhat_lo_95', 'yhat_hi_95']
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from forecasting.demand import freq as freqs
from forecasting.demand import metrics
from forecasting.demand.backtest import Backtest, backtest
from forecasting.demand.intervals import (SCALINGS, ConformalIntervals, interval_scale,
                                          recent_level)
from forecasting.demand.metrics import mase_scale, noise_scale
from forecasting.demand.models import make
from forecasting.demand.models.intermittent import is_intermittent
from forecasting.demand.panel import Panel, forecast_frame
from forecasting.demand.select import Choice, choose
from forecasting.demand.validate import static_columns, validate_series
from forecasting.schema import DS, UNIQUE_ID

log = logging.getLogger(__name__)

DEFAULT_CANDIDATES = ("seasonal_naive", "mean", "ses", "damped", "ets", "theta", "decomposition",
                      "lightgbm", "lightgbm_lean")
INTERMITTENT_CANDIDATES = ("croston", "sba", "tsb")


@dataclass
class DemandConfig:
    """Everything that defines a demand model; logged with the run and stored in the model."""

    horizon: int
    freq: str | None = None
    levels: tuple[int, ...] = (80, 95)
    candidates: tuple[str, ...] | None = None  # None: DEFAULT (+ intermittent when needed)
    n_windows: int = 2
    metric: str = "smape"
    max_ensemble: int = 3
    lightgbm: dict = field(default_factory=lambda: {"objective": "l1"})

    def to_dict(self) -> dict:
        d = asdict(self)
        d["levels"] = list(self.levels)
        d["candidates"] = list(self.candidates) if self.candidates else None
        return d


@dataclass
class ForecastResult:
    table: pd.DataFrame            # unique_id, ds, yhat, yhat_lo_L, yhat_hi_L
    model: DemandModel
    backtest_metrics: pd.DataFrame  # one row per candidate and 'chosen'
    per_series: pd.DataFrame        # chosen forecast's backtest metrics per series
    backtest: Backtest
    panel: Panel


def _candidates(cfg: DemandConfig, panel: Panel) -> list[str]:
    if cfg.candidates:
        return list(cfg.candidates)
    out = list(DEFAULT_CANDIDATES)
    if is_intermittent(panel.y).any():
        out += list(INTERMITTENT_CANDIDATES)
    year = freqs.long_season_length(panel.freq)
    if year < 2 or panel.T < 2 * year:  # pooled indices and growth need two years
        out.remove("decomposition")
    if panel.n < 2 or panel.T < 2 * panel.season_length:  # too little to learn globally
        out.remove("lightgbm")
        out.remove("lightgbm_lean")
    elif panel.freq not in ("D", "W"):  # lean = calendar only: nothing to learn for months
        out.remove("lightgbm_lean")
    return out


def _factory(name: str, cfg: DemandConfig):
    params = dict(cfg.lightgbm) if name == "lightgbm" else {}
    return lambda: make(name, cfg.horizon, **params)


def prepare(df: pd.DataFrame, freq: str | None, min_length: int | None = None) -> Panel:
    clean, report = validate_series(df, freq=freq, min_length=min_length)
    return Panel.from_long(clean, report["freq"], static_columns(clean))


class DemandModel:
    """The fitted demand model that gets registered: config, chosen members, intervals.

    ``predict(history)`` takes a long table (``unique_id``, ``ds``, ``y`` and any product
    attribute columns) and returns the forecast table for ``config.horizon`` periods after
    each series. Local members are refitted on the history given (they are cheap); global
    members keep their trained trees and only rebuild features from that history.
    """

    def __init__(self, config: DemandConfig, choice: Choice, intervals: ConformalIntervals,
                 fitted: dict, freq: str):
        self.config = config
        self.choice = choice
        self.intervals = intervals
        self.fitted = fitted   # global members, trained
        self.freq = freq

    def forecast_panel(self, panel: Panel, h: int | None = None
                       ) -> tuple[np.ndarray, dict, np.ndarray]:
        h = h or self.config.horizon
        preds = {}
        for name in self.choice.members():
            model = self.fitted.get(name)
            if model is not None and model.is_global:
                preds[name] = model.predict_panel(panel, h)
            else:
                preds[name] = make(name, self.config.horizon).forecast(panel, h)
        yhat = self.choice.combine(preds, is_intermittent(panel.y))
        scale = interval_scale(yhat, recent_level(panel.y, panel.season_length),
                               self._noise(panel), getattr(self.intervals, "scaling", "forecast"))
        return yhat, self.intervals.bounds(yhat, scale), scale

    def _noise(self, panel: Panel) -> np.ndarray:
        """The per-series noise the intervals were calibrated with: the lag-1 MAE; models
        registered before it existed (no ``noise`` mark) were calibrated on the MASE scale."""
        if getattr(self.intervals, "noise", None) == "lag1":
            return noise_scale(panel.y)
        return mase_scale(panel.y, panel.season_length)

    def predict(self, history: pd.DataFrame, h: int | None = None) -> pd.DataFrame:
        panel = prepare(history, self.freq)
        yhat, bounds, _ = self.forecast_panel(panel, h)
        return to_table(panel, yhat, bounds)


def to_table(panel: Panel, yhat: np.ndarray, bounds: dict) -> pd.DataFrame:
    out = forecast_frame(panel, yhat)
    for level in sorted(bounds):
        lo, hi = bounds[level]
        out[f"yhat_lo_{level}"] = lo.reshape(-1)
        out[f"yhat_hi_{level}"] = hi.reshape(-1)
    return out


def _lowo_bounds(bt: Backtest, f: np.ndarray, levels, scaling: str) -> dict:
    """Leave-one-window-out conformal bounds for the backtest forecasts ``f``."""
    W = bt.actual.shape[0]
    s = interval_scale(f, bt.level, bt.noise, scaling)
    ints = {lv: (np.empty_like(f), np.empty_like(f)) for lv in levels}
    for w in range(W):
        others = [v for v in range(W) if v != w] or [w]
        ci = ConformalIntervals(levels).fit((bt.actual - f)[others], s[others])
        b = ci.bounds(np.nan_to_num(f[w]), s[w])
        for lv in levels:
            ints[lv][0][w], ints[lv][1][w] = b[lv]
    return ints


def choose_scaling(bt: Backtest, f: np.ndarray, levels) -> str:
    """The error scaling with the lowest out-of-window scaled interval score (MSIS, averaged
    over the levels): intervals calibrated on the other windows, scored on the one left out,
    so the choice rewards intervals that are narrow where demand is calm and wide where it is
    not, at the right coverage. Needs 2+ windows; ``forecast`` otherwise."""
    if bt.actual.shape[0] < 2:
        return "forecast"
    score = {}
    for scaling in SCALINGS:
        ints = _lowo_bounds(bt, f, levels, scaling)
        score[scaling] = np.mean([metrics.msis(bt.actual, *ints[lv], lv, bt.scale)
                                  for lv in levels])
    log.debug("interval scaled interval scores: %s", score)
    return min(score, key=score.get)


def _metrics_table(bt: Backtest, choice: Choice, levels, scaling: str = "forecast"
                   ) -> tuple[pd.DataFrame, dict]:
    """Backtest metrics per candidate and for the chosen forecast (leave-one-window-out
    conformal intervals when there are several windows, so coverage is out of sample)."""
    rows = []
    chosen = choice.combine(bt.forecasts, bt.intermittent)
    all_f = {**bt.forecasts, "chosen": chosen}
    for name, f in all_f.items():
        ints = _lowo_bounds(bt, f, levels, scaling)
        m = metrics.all_metrics(bt.actual, f, bt.scale, ints, prefix="backtest_")
        rows.append({"model": name, **m})
    table = pd.DataFrame(rows).set_index("model")
    return table, table.loc["chosen"].to_dict()


def _per_series(panel: Panel, bt: Backtest, choice: Choice) -> pd.DataFrame:
    f = choice.combine(bt.forecasts, bt.intermittent)
    rows = []
    for i, uid in enumerate(panel.ids):
        y, fi = bt.actual[:, i], f[:, i]
        rows.append({UNIQUE_ID: uid, "smape": metrics.smape(y, fi),
                     "mase": metrics.mase(y, fi, bt.scale[:, i]),
                     "wape": metrics.wape(y, fi), "bias": metrics.bias(y, fi),
                     "intermittent": bool(bt.intermittent[-1, i])})
    return pd.DataFrame(rows)


def fit_panel(panel: Panel, config: DemandConfig, progress: bool = True) -> ForecastResult:
    """Backtest, choose, fit on all history and forecast ``config.horizon`` periods."""
    h = int(config.horizon)
    if h < 1:
        raise ValueError("horizon must be at least 1")
    names = _candidates(config, panel)
    factories = {n: _factory(n, config) for n in names}
    n_windows = config.n_windows
    # history wanted before the oldest origin (the backtest takes at least 2)
    min_hist = max(2, min(panel.season_length, max(4, h)))
    while n_windows > 1 and h * n_windows + min_hist > panel.T:
        n_windows -= 1
    bt = backtest(panel, factories, h, n_windows=n_windows, progress=progress)
    choice = choose(bt, metric=config.metric, max_size=config.max_ensemble)
    log.info("chosen: ensemble %s%s (backtest %s %.3f)", "+".join(choice.ensemble),
             f", intermittent series -> {choice.intermittent}" if choice.intermittent else "",
             config.metric, choice.scores["chosen"])
    chosen_bt = choice.combine(bt.forecasts, bt.intermittent)
    scaling = choose_scaling(bt, chosen_bt, config.levels)
    intervals = ConformalIntervals(config.levels).fit(
        bt.actual - chosen_bt, interval_scale(chosen_bt, bt.level, bt.noise, scaling))
    intervals.scaling = scaling
    intervals.noise = "lag1"
    log.info("interval error scaling: %s", scaling)
    fitted = {}
    for name in choice.members():
        model = factories[name]()
        if model.is_global:
            fitted[name] = model.fit(panel)
    model = DemandModel(config, choice, intervals, fitted, panel.freq)
    yhat, bounds, _ = model.forecast_panel(panel, h)
    table, _ = _metrics_table(bt, choice, config.levels, scaling)
    return ForecastResult(to_table(panel, yhat, bounds), model, table,
                          _per_series(panel, bt, choice), bt, panel)


def forecast(df: pd.DataFrame, horizon: int, freq: str | None = None, levels=(80, 95),
             candidates=None, n_windows: int = 2, progress: bool = True,
             **config) -> ForecastResult:
    """Forecast every series of a long table ``horizon`` periods ahead (see module doc)."""
    panel = prepare(df, freq)
    cfg = DemandConfig(horizon=horizon, freq=panel.freq, levels=tuple(levels),
                       candidates=tuple(candidates) if candidates else None,
                       n_windows=n_windows, **config)
    return fit_panel(panel, cfg, progress=progress)


def latest_forecasts(data, horizon: int, freq: str = "W", levels=(80, 95),
                     model: DemandModel | None = None,
                     series: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per-product forecasts from a :class:`~forecasting.dataset.Dataset`'s orders.

    With ``model`` (e.g. the champion from the registry) its chosen members are refitted on
    the latest history; without, the full pipeline runs. ``series`` is the demand history when
    the caller already built it with :func:`~forecasting.demand.series.orders_to_series`."""
    from forecasting.demand.series import orders_to_series

    if series is None:
        series = orders_to_series(data.orders, freq=freq, products=data.products)
    if model is not None:
        return model.predict(series, horizon)
    return forecast(series, horizon, freq=freq, levels=levels, progress=False).table
