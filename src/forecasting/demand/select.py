"""Choosing the forecast from backtests only: an equal-weight ensemble of candidates for
regular series, and one intermittent method for intermittent/lumpy series, **per history
group** (``full``, ``short``, ``new``; :mod:`forecasting.demand.history`): each group's
choice is made on the backtest cells of series that were of that kind at the origin.

The ensemble is the subset (up to ``max_size`` members, drawn from the ``top`` best single
models) whose mean forecast has the lowest backtest ``metric`` over the regular series of
every window. Intermittent series (ADI/CV² at each origin) get the intermittent method with
the lowest backtest MASE on them, when it beats the ensemble there. Baselines compete like any
other candidate. The window being forecast is never looked at.
"""

from __future__ import annotations

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
    best, best_score = [ranked[0]], single[ranked[0]]
    for k in range(2, max_size + 1):
        for combo in combinations(ranked, k):
            s = _score(bt, np.mean([bt.forecasts[m] for m in combo], axis=0), regular, metric)
            if s < best_score - 1e-9:
                best, best_score = list(combo), s
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
