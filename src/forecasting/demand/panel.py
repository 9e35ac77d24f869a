"""A panel of series as numpy arrays: the shape every model works on inside.

Series are *right-aligned*: row ``i`` of ``y`` holds series ``i`` with its last observation
in the last column and ``NaN`` before its first one. Models therefore see numpy only; the
long table (``unique_id``, ``ds``, ``y``) lives at the edges (:meth:`Panel.from_long`,
:meth:`Panel.to_long`).

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"unique_id": ["a", "a", "b"], "ds": pd.to_datetime(
    ...     ["2024-01-01", "2024-02-01", "2024-02-01"]), "y": [1.0, 2.0, 5.0]})
    >>> p = Panel.from_long(df, "MS")
    >>> p.y.tolist(), p.lengths.tolist()
    ([[1.0, 2.0], [nan, 5.0]], [2, 1])
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from forecasting.demand import freq as freqs
from forecasting.schema import DS, UNIQUE_ID, Y


@dataclass
class Panel:
    ids: np.ndarray            # (n,) str
    y: np.ndarray              # (n, T) float, right-aligned, NaN before the first observation
    last_ds: np.ndarray        # (n,) datetime64[ns], date of the last observation
    freq: str                  # canonical alias
    static: pd.DataFrame | None = None  # attributes indexed like ids (product attributes)

    @property
    def n(self) -> int:
        return self.y.shape[0]

    @property
    def T(self) -> int:
        return self.y.shape[1]

    @property
    def lengths(self) -> np.ndarray:
        return np.sum(~np.isnan(self.y), axis=1)

    @property
    def season_length(self) -> int:
        return freqs.season_length(self.freq)

    @classmethod
    def from_long(cls, df: pd.DataFrame, freq: str, static_cols: list[str] | None = None,
                  ) -> Panel:
        """From a validated long table (sorted or not; no gaps, one row per series/period)."""
        f = freqs.canonical(freq)
        d = df.sort_values([UNIQUE_ID, DS], kind="stable")
        codes, ids = pd.factorize(d[UNIQUE_ID], sort=True)
        n = len(ids)
        counts = np.bincount(codes, minlength=n)
        T = int(counts.max()) if n else 0
        pos_in = np.arange(len(d)) - np.repeat(np.cumsum(counts) - counts, counts)
        col = T - np.repeat(counts, counts) + pos_in
        y = np.full((n, T), np.nan)
        y[codes, col] = d[Y].to_numpy(float)
        last = d.groupby(codes, sort=True)[DS].max().to_numpy().astype("datetime64[ns]")
        static = None
        if static_cols:
            static = d.groupby(codes, sort=True)[static_cols].first()
            static.index = np.asarray(ids, dtype=str)
        return cls(np.asarray(ids, dtype=str), y, last, f, static)

    def to_long(self, rows: np.ndarray | None = None) -> pd.DataFrame:
        """Back to the long table (observed cells only) with the attribute columns; ``rows``
        selects series (default: all)."""
        parts = []
        for i in (range(self.n) if rows is None else rows):
            yi = self.y[i][~np.isnan(self.y[i])]
            part = pd.DataFrame({UNIQUE_ID: self.ids[i], DS: self.dates(i, len(yi)), Y: yi})
            if self.static is not None:
                for c in self.static.columns:
                    part[c] = self.static[c].iloc[i]
            parts.append(part)
        return pd.concat(parts, ignore_index=True)

    def dates(self, i: int, k: int) -> pd.DatetimeIndex:
        """The dates of the last ``k`` observations of series ``i``."""
        last = pd.Timestamp(self.last_ds[i])
        off = freqs.offset(self.freq)
        if isinstance(off, pd.Timedelta):
            return pd.DatetimeIndex([last - off * j for j in range(k - 1, -1, -1)])
        return pd.date_range(end=last, periods=k, freq=self.freq)

    def truncate(self, n_drop: int) -> Panel:
        """The panel without its last ``n_drop`` periods (for a backtest origin)."""
        if n_drop <= 0:
            return self
        y = self.y[:, :-n_drop]
        last = np.array([_shift(pd.Timestamp(t), -n_drop, self.freq) for t in self.last_ds],
                        dtype="datetime64[ns]")
        keep = np.any(~np.isnan(y), axis=0)
        first = int(np.argmax(keep)) if keep.any() else y.shape[1]
        return replace(self, y=y[:, first:], last_ds=last)

    def subset(self, rows: np.ndarray) -> Panel:
        static = None if self.static is None else self.static.iloc[rows]
        y = self.y[rows]
        keep = np.any(~np.isnan(y), axis=0)
        first = int(np.argmax(keep)) if keep.any() else y.shape[1]
        return replace(self, ids=self.ids[rows], y=y[:, first:], last_ds=self.last_ds[rows],
                       static=static)

    def future(self, h: int) -> pd.DataFrame:
        """unique_id/ds of the ``h`` periods after each series (row-major: series, step)."""
        cache: dict = {}
        ds = []
        for t in self.last_ds:
            if t not in cache:
                cache[t] = freqs.future_dates(pd.Timestamp(t), h, self.freq)
            ds.append(cache[t])
        return pd.DataFrame({UNIQUE_ID: np.repeat(self.ids, h),
                             DS: np.concatenate(ds) if ds else np.array([], "datetime64[ns]")})


def period_dates(panel: Panel, rows: np.ndarray, rel: np.ndarray) -> pd.DatetimeIndex:
    """Dates of period ``rel`` (0 = last observation, 1 = the next one) of series ``rows``."""
    return freqs.get(panel.freq).shift(panel.last_ds[rows], rel)


def _shift(t: pd.Timestamp, k: int, freq: str) -> pd.Timestamp:
    off = freqs.offset(freq)
    return t + off * k


def forecast_frame(panel: Panel, yhat: np.ndarray) -> pd.DataFrame:
    """Long forecast table ``unique_id``, ``ds``, ``yhat`` from an (n, h) array."""
    out = panel.future(yhat.shape[1])
    out["yhat"] = yhat.reshape(-1)
    return out
