"""Choosing the forecast from backtests only: an equal-weight ensemble of candidates for
regular series, and one intermittent method for intermittent/lumpy series, **per history
group** (``full``, ``short``, ``new``; :mod:`forecasting.demand.history`): each group's
choice is made on the backtest cells of series that were of that kind at the origin.

The ensemble is a subset (up to ``max_size`` members, drawn from the ``top`` best single
models) of the candidates, judged on the backtest ``metric`` over the regular series of
**every** window. The choice follows a **one-standard-error rule**: the subset with the
lowest error is the reference; every subset whose error is within one standard error of
the difference from it (paired by series over all windows, so a gap that a few series or one
window make is noise) is as good as the data can tell. Among those the one with the **most
members** wins, then the lowest error: an equal-weight combination of forecasts that the
backtest cannot tell apart spreads the risk that any one of them is wrong in the next
window. A choice made that way does not flip with the number of backtest windows when
candidates are within noise of each other.

How the rule was settled, on backtests of the training data only (the benchmarks' test
periods held out), 2, 3 and 4 windows: preferring the fewest members (a first version) still
flipped on Store Item (the pooled decomposition alone with 2 windows, 0.003 sMAPE ahead of
LightGBM + decomposition; the pair with 3 and 4 windows). Preferring the most members gives
the pair with 2, 3 and 4 windows there, and LightGBM + Theta with 2, 3 and 4 on M3 monthly.
A standard error paired by window as well (a window's series share its calendar) was tried
and dropped: with 2 windows it has one degree of freedom, and it made M3 flip (a third
member let in with 2 windows only).
Intermittent series (ADI/CV² at each origin) get the intermittent method with the lowest
backtest MASE on them, when it beats the ensemble there. Baselines compete like any other
candidate. The window being forecast is never looked at.

Example: ``b`` is ``a`` with a little noise of its own: their mean is within noise of
``a`` alone, so the combination is kept; ``c`` is clearly worse, and so is any mean with it:

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(10, 1, (2, 300, 4))                  # windows, series, steps
    >>> a = y + rng.normal(0, 1, y.shape)
    >>> b = a + rng.normal(0, 0.05, y.shape)
    >>> c = y + rng.normal(0, 3, y.shape)
    >>> cells = np.ones(y.shape[:2], bool)
    >>> one_se({("a",): a, ("a", "b"): (a + b) / 2, ("a", "c"): (a + c) / 2}, y, cells,
    ...        "smape", None)[0]
    ('a', 'b')
    >>> one_se({("a",): a, ("a", "c"): (a + c) / 2}, y, cells, "smape", None)[0]
    ('a',)
    >>> round(float(contributions(y, a, cells, "smape").sum()), 6) == round(
    ...     metrics.smape(y, a), 6)
    True
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

from forecasting.demand import metrics
from forecasting.demand.backtest import Backtest
from forecasting.errors import ForecastingError

BASELINES = ("seasonal_naive", "mean")
INTERMITTENT = ("croston", "sba", "tsb")


@dataclass
class Choice:
    ensemble: list[str]
    intermittent: str | None = None
    scores: dict[str, float] = field(default_factory=dict)  # candidate -> backtest metric

    def combine(self, forecasts: dict[str, np.ndarray], intermittent_mask: np.ndarray
                ) -> np.ndarray:
        f = np.mean([forecasts[m] for m in self.ensemble], axis=0)
        if self.intermittent is not None:
            mask = intermittent_mask[..., None] & np.ones_like(f, bool)
            f = np.where(mask, forecasts[self.intermittent], f)
        return f

    def members(self) -> list[str]:
        return [*self.ensemble, *([self.intermittent] if self.intermittent else [])]


def _score(bt: Backtest, f: np.ndarray, rows: np.ndarray, metric: str) -> float:
    y = np.where(rows[..., None], bt.actual, np.nan)
    if metric == "smape":
        return metrics.smape(y, f)
    if metric == "mase":
        return metrics.mase(y, f, bt.scale)
    if metric == "wape":
        return metrics.wape(y, f)
    raise ValueError(f"unknown selection metric {metric!r}")


def contributions(y: np.ndarray, f: np.ndarray, rows: np.ndarray, metric: str,
                  scale: np.ndarray | None = None) -> np.ndarray:
    """Each series' share of the backtest ``metric`` over the cells ``rows`` (windows,
    series) of actuals ``y`` and forecasts ``f`` (windows, series, h): the shares sum to the
    metric (as :mod:`~forecasting.demand.metrics` computes it), so the differences of two
    forecasts' shares are paired by series, with every window of a series pooled."""
    y = np.where(rows[..., None], y, np.nan)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # series without cells: NaN
        if metric == "smape":
            den = np.abs(y) + np.abs(f)
            v = np.where(den > 0, 200.0 * np.abs(y - f) / np.where(den > 0, den, 1), 0.0)
            v = np.where(np.isnan(y) | np.isnan(f), np.nan, v)
            return np.nansum(v, axis=(0, 2)) / max(int(np.isfinite(v).sum()), 1)
        if metric == "mase":
            per = np.nanmean(np.abs(y - f), axis=-1) / scale
            return np.nansum(per, axis=0) / max(int(np.isfinite(per).sum()), 1)
        if metric == "wape":
            e = np.where(np.isnan(y) | np.isnan(f), np.nan, np.abs(y - f))
            den = np.nansum(np.where(np.isnan(e), np.nan, np.abs(y)))
            return 100.0 * np.nansum(e, axis=(0, 2)) / (den if den > 0 else np.nan)
    raise ValueError(f"unknown selection metric {metric!r}")


def one_se(forecasts: dict[tuple[str, ...], np.ndarray], y: np.ndarray, rows: np.ndarray,
           metric: str, scale: np.ndarray) -> tuple[tuple[str, ...], float]:
    """The one-standard-error choice among candidate ``forecasts`` (member tuple ->
    forecast): the most members, then the lowest error, among those whose error is within
    one standard error (of the paired per-series difference) of the lowest."""
    shares = {k: contributions(y, f, rows, metric, scale) for k, f in forecasts.items()}
    score = {k: float(np.nansum(v)) if np.isfinite(v).any() else np.inf
             for k, v in shares.items()}
    best = min(score, key=score.get)
    if not np.isfinite(score[best]):
        return best, score[best]
    within = []
    for k, v in shares.items():
        d = v - shares[best]
        d = d[np.isfinite(d)]
        se = float(np.sqrt(len(d)) * np.std(d, ddof=1)) if len(d) > 1 else 0.0
        if score[k] <= score[best] + se + 1e-12:
            within.append(k)
    pick = min(within, key=lambda k: (-len(k), score[k]))
    return pick, score[pick]


def choose(bt: Backtest, metric: str = "smape", max_size: int = 3, top: int = 6,
           names=None) -> Choice:
    """The best ensemble (and intermittent method) among ``names`` (default: every candidate
    of the backtest) on the cells whose actuals ``bt`` shows (see :meth:`Backtest.masked`)."""
    names = list(names) if names is not None else list(bt.forecasts)
    regular = ~bt.intermittent
    cont = [m for m in names if m not in INTERMITTENT]
    single = {m: _score(bt, bt.forecasts[m], regular, metric) for m in cont}
    ranked = sorted((m for m in cont if np.isfinite(single[m])), key=single.get)[:top]
    if not ranked:  # no regular series (all intermittent) or nothing scorable: use them all
        regular = np.ones_like(regular, dtype=bool)
        single = {m: _score(bt, bt.forecasts[m], regular, metric) for m in cont}
        ranked = sorted((m for m in cont if np.isfinite(single[m])), key=single.get)[:top]
    if not ranked:
        raise ForecastingError(
            "no candidate model could be scored on the backtest windows (the history is too "
            "short or all zero); give more history or a shorter --horizon")
    options = {(m,): bt.forecasts[m] for m in ranked}
    for k in range(2, max_size + 1):
        for combo in combinations(ranked, k):
            options[combo] = np.mean([bt.forecasts[m] for m in combo], axis=0)
    pick, best_score = one_se(options, bt.actual, regular, metric, bt.scale)
    best = list(pick)
    choice = Choice(ensemble=best, scores=dict(single))
    if bt.intermittent.any():
        ens = np.mean([bt.forecasts[m] for m in best], axis=0)
        options = {"ensemble": _score(bt, ens, bt.intermittent, "mase")}
        for m in INTERMITTENT:
            if m in bt.forecasts and m in names:
                options[m] = _score(bt, bt.forecasts[m], bt.intermittent, "mase")
        winner = min(options, key=options.get)
        choice.intermittent = None if winner == "ensemble" else winner
    choice.scores["chosen"] = best_score
    return choice


@dataclass
class GroupChoice:
    """One :class:`Choice` per history group; ``borrowed`` names the groups that had no
    backtest cells of their own and use another group's choice."""

    choices: dict[str, Choice]
    borrowed: dict[str, str] = field(default_factory=dict)

    def combine(self, forecasts: dict[str, np.ndarray], intermittent_mask: np.ndarray,
                groups: np.ndarray) -> np.ndarray:
        """``groups`` has the shape of ``intermittent_mask`` (the class of each cell)."""
        first = next(iter(forecasts.values()))
        out = np.full(first.shape, np.nan)
        for g, ch in self.choices.items():
            mask = (groups == g)[..., None] & np.ones(first.shape, bool)
            if mask.any():
                out = np.where(mask, ch.combine(forecasts, intermittent_mask), out)
        return out

    def members(self) -> list[str]:
        return list(dict.fromkeys(m for ch in self.choices.values() for m in ch.members()))

    def describe(self) -> dict[str, str]:
        return {g: "+".join(ch.ensemble) + (f" (intermittent: {ch.intermittent})"
                                           if ch.intermittent else "")
                + (f" [from {self.borrowed[g]}]" if g in self.borrowed else "")
                for g, ch in self.choices.items()}
