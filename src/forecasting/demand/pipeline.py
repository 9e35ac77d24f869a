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
    ['unique_id', 'ds', 'yhat', 'yhat_lo_80', 'yhat_hi_80', 'yhat_lo_95', 'yhat_hi_95', 'history']
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from forecasting.demand import freq as freqs
from forecasting.demand import metrics
from forecasting.demand.backtest import Backtest, backtest
from forecasting.demand.history import FALLBACK, FULL, GROUPS, NEW, NEW_BELOW, classify
from forecasting.demand.intervals import (SCALINGS, ConformalIntervals, GroupIntervals,
                                          interval_scale, recent_level)
from forecasting.demand.metrics import mase_scale, noise_scale
from forecasting.demand.models import is_pooled, make
from forecasting.demand.models.decomposition import own_categories
from forecasting.demand.models.intermittent import is_intermittent
from forecasting.demand.panel import Panel, forecast_frame
from forecasting.demand.select import Choice, GroupChoice, choose
from forecasting.errors import ForecastingError
from forecasting.demand.validate import static_columns, validate_series
from forecasting.schema import UNIQUE_ID
from forecasting.demand.series import orders_to_series
from forecasting.settings import DEFAULT_FREQ, DEFAULT_LEVELS

log = logging.getLogger(__name__)

DEFAULT_CANDIDATES = ("seasonal_naive", "mean", "ses", "damped", "ets", "theta", "decomposition",
                      "lightgbm", "lightgbm_lean")
INTERMITTENT_CANDIDATES = ("croston", "sba", "tsb")
COLD_START = "cold_start"
MIN_CALIBRATION = 30  # backtest paths a group's intervals need before borrowing neighbours
COVERAGE_TOLERANCE = 3.0  # points an interval's out-of-window coverage may miss its level by
# what a new series (under NEW_BELOW observations) may be forecast with
NEW_CANDIDATES = (COLD_START, "mean", "seasonal_naive", "ses", *INTERMITTENT_CANDIDATES)


@dataclass
class DemandConfig:
    """Everything that defines a demand model; logged with the run and stored in the model."""

    horizon: int
    freq: str | None = None
    levels: tuple[int, ...] = DEFAULT_LEVELS
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
    table: pd.DataFrame            # unique_id, ds, yhat, yhat_lo_L, yhat_hi_L, history
    model: DemandModel
    backtest_metrics: pd.DataFrame  # one row per candidate and 'chosen'
    per_series: pd.DataFrame        # chosen forecast's backtest metrics per series
    backtest: Backtest
    panel: Panel
    group_metrics: pd.DataFrame | None = None  # chosen forecast's backtest metrics per group

    def series_by_history(self) -> dict[str, list[str]]:
        """The ids of the series in each history group (``full``, ``short``, ``new``)."""
        groups = classify(self.panel.lengths, self.panel.season_length)
        return {g: self.panel.ids[groups == g].tolist() for g in GROUPS}


def _candidates(cfg: DemandConfig, panel: Panel, young: bool = False) -> list[str]:
    """The candidates backtested on ``panel``; ``young``: some series are (or were, at a
    backtest origin) new, so the cold start joins."""
    if cfg.candidates:
        out = list(cfg.candidates)
        return out + [COLD_START] if young and COLD_START not in out else out
    out = list(DEFAULT_CANDIDATES) + ([COLD_START] if young else [])
    if is_intermittent(panel.y).any():
        out += list(INTERMITTENT_CANDIDATES)
    year = freqs.long_season_length(panel.freq)
    if year < 2 or panel.T < 2 * year:  # pooled indices and growth need two years
        out.remove("decomposition")
    elif own_categories(panel):  # a category with its own seasonal shape may lend it better
        out.insert(out.index("decomposition") + 1, "decomposition_category")
    if (panel.n < 2 or panel.T < 2 * panel.season_length  # too little to learn globally
            or (panel.lengths >= 2 * panel.season_length).sum() < 2):
        out.remove("lightgbm")
        out.remove("lightgbm_lean")
    elif not freqs.get(panel.freq).sub_monthly:  # lean = calendar only: nothing in months
        out.remove("lightgbm_lean")
    return out


def _group_names(group: str, names: list[str]) -> list[str]:
    """Candidates a history group chooses among: new series the simple and cold-start ones;
    the others everything but the cold start (on short series the smoothing models are
    non-seasonal by their own test, and the decomposition lends them the panel's season)."""
    if group == NEW:
        return [n for n in names if n in NEW_CANDIDATES]
    return [n for n in names if n != COLD_START]


def _factory(name: str, cfg: DemandConfig, h: int | None = None):
    params = dict(cfg.lightgbm) if name == "lightgbm" else {}
    return lambda: make(name, h or cfg.horizon, **params)


def prepare(df: pd.DataFrame, freq: str | None, min_length: int | None = None) -> Panel:
    clean, report = validate_series(df, freq=freq, min_length=min_length)
    return Panel.from_long(clean, report["freq"], static_columns(clean))


class DemandModel:
    """The fitted demand model that gets registered: config, chosen members, intervals.

    ``predict(history)`` takes a long table (``unique_id``, ``ds``, ``y`` and any product
    attribute columns) and returns the forecast table for ``config.horizon`` periods after
    each series. Local members are refitted on the history given (they are cheap); global
    members keep their trained trees and only rebuild features from that history. Each series
    is forecast with the choice and intervals of its history group (``full``, ``short``,
    ``new``). Asked for more steps than it was trained and calibrated for, it **extends**:
    local members are refitted for the longer horizon, global members hold their last
    trained step, intervals widen by the square root of the step ratio (:attr:`extended`
    says so for the last call).
    """

    def __init__(self, config: DemandConfig, choice: GroupChoice, intervals: GroupIntervals,
                 fitted: dict, freq: str):
        self.config = config
        self.choice = choice
        self.intervals = intervals
        self.fitted = fitted   # global members, trained
        self.freq = freq
        self.extended = ""

    def _grouped(self) -> tuple[GroupChoice, GroupIntervals]:
        """Models registered before history groups had one choice for every series."""
        choice, ints = self.choice, self.intervals
        if isinstance(choice, Choice):
            choice = GroupChoice({g: choice for g in GROUPS})
        if isinstance(ints, ConformalIntervals):
            ints = GroupIntervals({g: ints for g in GROUPS})
        return choice, ints

    def groups(self, panel: Panel) -> np.ndarray:
        """The history group of each series of ``panel``."""
        return classify(panel.lengths, panel.season_length)

    @property
    def calibrated_steps(self) -> int:
        return min(int(self.config.horizon), self._grouped()[1].steps)

    def forecast_panel(self, panel: Panel, h: int | None = None, given: dict | None = None
                       ) -> tuple[np.ndarray, dict, np.ndarray]:
        """``given``: forecasts of some members computed elsewhere (name -> (n, h) array; the
        Spark engine's per-series members)."""
        h = h or self.config.horizon
        choice, ints = self._grouped()
        preds = dict(given or {})
        for name in choice.members():
            if name in preds:
                continue
            model = self.fitted.get(name)
            if model is not None and model.is_global:
                H = min(h, int(getattr(model, "horizon", h) or h))
                f = model.predict_panel(panel, H)
                preds[name] = np.concatenate([f, np.repeat(f[:, -1:], h - H, axis=1)], axis=1)
            else:
                preds[name] = make(name, self.config.horizon).forecast(panel, h)
        groups = self.groups(panel)
        yhat = choice.combine(preds, is_intermittent(panel.y), groups)
        scale = ints.scale(yhat, recent_level(panel.y, panel.season_length),
                           self._noise(panel), groups)
        steps = self.calibrated_steps
        self.extended = (f"extended from {steps} to {h} periods (trained for "
                         f"{self.config.horizon}: local members refitted, global members hold "
                         f"their last step, intervals widened by sqrt(step))"
                         if h > steps else "")
        return yhat, ints.bounds(yhat, scale, groups), scale

    def summary(self) -> dict:
        """What was chosen: members, the choice per history group, the interval scalings."""
        choice, ints = self._grouped()
        return {"chosen": choice.members(), "chosen_by_history": choice.describe(),
                "interval_scaling": {g: getattr(ci, "scaling", "forecast")
                                     for g, ci in ints.by_group.items()}}

    def paths(self, group: str, h: int) -> np.ndarray:
        """Scaled backtest error paths of a history group over ``h`` steps (for plans)."""
        return self._grouped()[1].paths(group, h)

    def _noise(self, panel: Panel) -> np.ndarray:
        """The per-series noise the intervals were calibrated with: the lag-1 MAE; models
        registered before it existed (no ``noise`` mark) were calibrated on the MASE scale."""
        ints = self._grouped()[1]
        if getattr(next(iter(ints.by_group.values())), "noise", None) == "lag1":
            return noise_scale(panel.y)
        return mase_scale(panel.y, panel.season_length)

    def predict(self, history: pd.DataFrame, h: int | None = None) -> pd.DataFrame:
        panel = prepare(history, self.freq)
        yhat, bounds, _ = self.forecast_panel(panel, h)
        return to_table(panel, yhat, bounds, self.groups(panel))


def to_table(panel: Panel, yhat: np.ndarray, bounds: dict,
             groups: np.ndarray | None = None) -> pd.DataFrame:
    out = forecast_frame(panel, yhat)
    for level in sorted(bounds):
        lo, hi = bounds[level]
        out[f"yhat_lo_{level}"] = lo.reshape(-1)
        out[f"yhat_hi_{level}"] = hi.reshape(-1)
    if groups is not None:
        out["history"] = np.repeat(groups, yhat.shape[1])
    return out


def _lowo_bounds(bt: Backtest, f: np.ndarray, levels, scaling: str) -> dict:
    """Leave-one-window-out conformal bounds for the backtest forecasts ``f``."""
    W = bt.actual.shape[0]
    s = interval_scale(f, bt.level, bt.noise, scaling)
    ints = {lv: (np.full(f.shape, np.nan), np.full(f.shape, np.nan)) for lv in levels}
    for w in range(W):
        others = [v for v in range(W) if v != w] or [w]
        try:
            ci = ConformalIntervals(levels).fit((bt.actual - f)[others], s[others])
        except ForecastingError:  # no cells in the other windows: calibrate in sample
            try:
                ci = ConformalIntervals(levels).fit(bt.actual - f, s)
            except ForecastingError:
                continue
        b = ci.bounds(np.nan_to_num(f[w]), s[w])
        for lv in levels:
            ints[lv][0][w], ints[lv][1][w] = b[lv]
    return ints


def choose_scaling(bt: Backtest, f: np.ndarray, levels, scalings=SCALINGS,
                   tolerance: float = COVERAGE_TOLERANCE) -> str:
    """The error scaling whose intervals are the sharpest among the calibrated ones: intervals
    calibrated on the other windows are scored on the one left out; a scaling is calibrated
    when its out-of-window coverage is within ``tolerance`` points of every level, and the
    sharpest is the one with the lowest scaled interval score (MSIS, averaged over the levels:
    narrow where demand is calm and wide where it is not). Without a calibrated one, the one
    whose coverage is closest. (Sharpness subject to calibration, as Gneiting, Balabdaoui and
    Raftery put it, 2007. MSIS alone could prefer intervals that miss little on the many
    small series and are far too wide on the few large ones.) Needs 2+ windows; ``forecast``
    otherwise."""
    if bt.actual.shape[0] < 2:
        return "forecast"
    score, miss = {}, {}
    for scaling in scalings:
        ints = _lowo_bounds(bt, f, levels, scaling)
        score[scaling] = np.mean([metrics.msis(bt.actual, *ints[lv], lv, bt.scale)
                                  for lv in levels])
        miss[scaling] = max(abs(metrics.coverage(bt.actual, *ints[lv]) - lv) for lv in levels)
    log.debug("interval scaled interval scores: %s, coverage misses: %s", score, miss)
    calibrated = [s for s in scalings if miss[s] <= tolerance]
    if calibrated:
        return min(calibrated, key=score.get)
    return min(scalings, key=lambda s: (miss[s], score[s]))


def _metrics_table(bt: Backtest, choice: GroupChoice, levels, scalings: dict[str, str]
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Backtest metrics per candidate and for the chosen forecast, and the chosen forecast's
    per history group (leave-one-window-out conformal intervals when there are several
    windows, so coverage is out of sample; each group with its own calibration)."""
    chosen = choice.combine(bt.forecasts, bt.intermittent, bt.history)
    main_scaling = scalings.get(FULL) or next(iter(scalings.values()))
    rows = []
    for name, f in bt.forecasts.items():
        ints = _lowo_bounds(bt, f, levels, main_scaling)
        rows.append({"model": name,
                     **metrics.all_metrics(bt.actual, f, bt.scale, ints, prefix="backtest_")})
    ints = {lv: (np.full(chosen.shape, np.nan), np.full(chosen.shape, np.nan)) for lv in levels}
    groups = []
    for g in GROUPS:
        cells = bt.history == g
        if not cells.any():
            continue
        sub = bt.masked(cells)
        b = _lowo_bounds(sub, chosen, levels, scalings[g])
        mask = cells[..., None] & np.ones(chosen.shape, bool)
        for lv in levels:
            ints[lv][0][mask], ints[lv][1][mask] = b[lv][0][mask], b[lv][1][mask]
        m = metrics.all_metrics(sub.actual, chosen, bt.scale, b, prefix="backtest_")
        groups.append({"history": g, "chosen": choice.describe().get(g, ""),
                       "backtest_cells": int(cells.sum()), **m})
    rows.append({"model": "chosen",
                 **metrics.all_metrics(bt.actual, chosen, bt.scale, ints, prefix="backtest_")})
    group_table = pd.DataFrame(groups).set_index("history") if groups else pd.DataFrame()
    return pd.DataFrame(rows).set_index("model"), group_table


def _per_series(panel: Panel, bt: Backtest, choice: GroupChoice) -> pd.DataFrame:
    f = choice.combine(bt.forecasts, bt.intermittent, bt.history)
    groups = classify(panel.lengths, panel.season_length)
    rows = []
    for i, uid in enumerate(panel.ids):
        y, fi = bt.actual[:, i], f[:, i]
        rows.append({UNIQUE_ID: uid, "history": groups[i], "smape": metrics.smape(y, fi),
                     "mase": metrics.mase(y, fi, bt.scale[:, i]),
                     "wape": metrics.wape(y, fi), "bias": metrics.bias(y, fi),
                     "intermittent": bool(bt.intermittent[-1, i])})
    return pd.DataFrame(rows)


def _choose_groups(bt: Backtest, names: list[str], config: DemandConfig
                   ) -> tuple[GroupChoice, GroupIntervals, dict[str, str]]:
    """A choice, an error scaling and an interval calibration per history group, each on
    the backtest cells of its group; a group without cells borrows its neighbour's."""
    choices, ints, scalings, borrowed = {}, {}, {}, {}
    for g in GROUPS:
        cells = (bt.history == g) & np.isfinite(bt.actual).all(axis=-1)
        group_names = _group_names(g, names)
        if not cells.any() or not group_names:
            continue
        sub = bt.masked(cells)
        try:
            ch = choose(sub, metric=config.metric, max_size=config.max_ensemble,
                        names=group_names)
        except ForecastingError:
            continue
        f = ch.combine(bt.forecasts, bt.intermittent)
        calib = cells.copy()  # too few cells of its own: the neighbours' join the calibration
        for donor in FALLBACK[g]:
            if calib.sum() >= MIN_CALIBRATION:
                break
            calib |= (bt.history == donor) & np.isfinite(bt.actual).all(axis=-1)
        sub = bt.masked(calib)
        # a new series has no noise of its own to scale by: its errors scale with the forecast
        scaling = choose_scaling(sub, f, config.levels,
                                 ("forecast", "sqrt") if g == NEW else SCALINGS)
        ci = ConformalIntervals(config.levels).fit(
            sub.actual - f, interval_scale(f, bt.level, bt.noise, scaling))
        ci.scaling, ci.noise = scaling, "lag1"
        choices[g], ints[g], scalings[g] = ch, ci, scaling
        log.info("%s series: ensemble %s%s (backtest %s %.3f on %d cells), interval scaling "
                 "%s", g, "+".join(ch.ensemble),
                 f", intermittent -> {ch.intermittent}" if ch.intermittent else "",
                 config.metric, ch.scores["chosen"], int(cells.sum()), scaling)
    if not choices:
        raise ForecastingError(
            "no candidate model could be scored on the backtest windows (the history is too "
            "short or all zero); give more history or a shorter --horizon")
    for g in GROUPS:
        if g not in choices:
            donor = next(d for d in FALLBACK[g] if d in choices)
            choices[g], ints[g], scalings[g] = choices[donor], ints[donor], scalings[donor]
            borrowed[g] = donor
    return (GroupChoice(choices, borrowed), GroupIntervals(ints, borrowed), scalings)


def fit_panel(panel: Panel, config: DemandConfig, progress: bool = True,
              per_series=None) -> ForecastResult:
    """Backtest, choose per history group, fit on all history and forecast
    ``config.horizon`` periods.

    When the longest series is not longer than the horizon, the backtest forecasts as many
    steps as the history allows and the model extends beyond them (see
    :class:`DemandModel`).

    ``per_series`` runs the candidates that fit one series at a time elsewhere (the Spark
    engine, :class:`forecasting.engines.spark_demand.SparkPerSeries`): its
    ``backtest(panel, names, h, origins)`` returns their backtest forecasts (name ->
    (windows, n, h)) and ``forecast(panel, names, horizon, h)`` their forecasts (name -> (n,
    h)); the pooled and global ones (:func:`~forecasting.demand.models.is_pooled`), the
    choice and the intervals stay here. None: everything here."""
    h = int(config.horizon)
    if h < 1:
        raise ValueError("horizon must be at least 1")
    if panel.T < 2:
        raise ForecastingError(
            f"every series has a single period of history: give at least one series with 2 "
            f"periods or more (the backtest that chooses the model and calibrates the "
            f"intervals needs one)")
    h_bt = min(h, panel.T - 1)
    n_windows = config.n_windows
    # history wanted before the oldest origin (the backtest takes at least 2)
    min_hist = max(2, min(panel.season_length, max(4, h_bt)))
    while n_windows > 1 and h_bt * n_windows + min_hist > panel.T:
        n_windows -= 1
    young = bool((panel.lengths < NEW_BELOW + h_bt * n_windows).any())
    names = _candidates(config, panel, young)
    factories = {n: _factory(n, config, h_bt) for n in names}
    if per_series is None:
        bt = backtest(panel, factories, h_bt, n_windows=n_windows, progress=progress)
    else:
        apart = [n for n in names if not is_pooled(n)]
        bt = backtest(panel, {n: f for n, f in factories.items() if n not in apart}, h_bt,
                      n_windows=n_windows, progress=progress)
        got = per_series.backtest(panel, apart, h_bt, bt.origins)
        bt.forecasts = {n: got[n] if n in got else bt.forecasts[n] for n in names}
    choice, intervals, scalings = _choose_groups(bt, names, config)
    fitted = {}
    for name in choice.members():
        model = _factory(name, config)()
        if model.is_global:
            fitted[name] = model.fit(panel)
    model = DemandModel(config, choice, intervals, fitted, panel.freq)
    given = None if per_series is None else per_series.forecast(
        panel, [m for m in choice.members() if not is_pooled(m)], config.horizon, h)
    yhat, bounds, _ = model.forecast_panel(panel, h, given=given)
    if model.extended:
        log.warning("the history is shorter than the horizon: forecasts %s", model.extended)
    table, groups = _metrics_table(bt, choice, config.levels, scalings)
    return ForecastResult(to_table(panel, yhat, bounds, model.groups(panel)), model, table,
                          _per_series(panel, bt, choice), bt, panel, groups)


def forecast(df: pd.DataFrame, horizon: int, freq: str | None = None, levels=DEFAULT_LEVELS,
             candidates=None, n_windows: int = 2, progress: bool = True,
             **config) -> ForecastResult:
    """Forecast every series of a long table ``horizon`` periods ahead (see module doc)."""
    panel = prepare(df, freq)
    cfg = DemandConfig(horizon=horizon, freq=panel.freq, levels=tuple(levels),
                       candidates=tuple(candidates) if candidates else None,
                       n_windows=n_windows, **config)
    return fit_panel(panel, cfg, progress=progress)


def latest_forecasts(data, horizon: int, freq: str = DEFAULT_FREQ, levels=DEFAULT_LEVELS,
                     model: DemandModel | None = None,
                     series: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per-product forecasts from a :class:`~forecasting.dataset.Dataset`'s orders.

    With ``model`` (e.g. the champion from the registry) its chosen members are refitted on
    the latest history; without, the full pipeline runs. ``series`` is the demand history when
    the caller already built it with :func:`~forecasting.demand.series.orders_to_series`."""
    if series is None:
        series = orders_to_series(data.orders, freq=freq, products=data.products)
    if model is not None:
        return model.predict(series, horizon)
    return forecast(series, horizon, freq=freq, levels=levels, progress=False).table
