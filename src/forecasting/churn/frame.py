"""Column typing learned at fit and reapplied at predict: one code path for train and serve.

A churn feature table has numeric columns (floats, ints, booleans) and categorical columns
(text or ``category`` dtype). :class:`FeatureFrame` remembers which is which and the
categories seen in training, so that a single row sent to the API is typed exactly like the
training rows (unknown categories become missing, never an error).

Example:
    >>> import pandas as pd
    >>> ff = FeatureFrame().fit(pd.DataFrame({"x": [1, 2], "tier": ["a", "b"]}))
    >>> ff.numeric_, ff.categorical_
    (['x'], ['tier'])
    >>> row = ff.transform(pd.DataFrame({"x": ["3"], "tier": ["zzz"]})).iloc[0]
    >>> float(row["x"]), row["tier"]
    (3.0, nan)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.errors import DataError, ForecastingError, Problem

MISSING_CATEGORY = "(missing)"


def is_numeric(s: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s))


class FeatureFrame:
    """Learns numeric vs categorical columns and categories; ``transform`` reapplies them."""

    def fit(self, X: pd.DataFrame) -> FeatureFrame:
        if not isinstance(X, pd.DataFrame):
            raise ForecastingError(f"features must be a pandas DataFrame, got {type(X).__name__}")
        if X.shape[1] == 0:
            raise ForecastingError("no feature columns: the table has only the label/id columns")
        self.columns_ = [str(c) for c in X.columns]
        self.numeric_ = [c for c in self.columns_ if is_numeric(X[c])]
        self.categorical_ = [c for c in self.columns_ if c not in self.numeric_]
        self.categories_ = {
            c: sorted(X[c].dropna().astype(str).unique().tolist()) for c in self.categorical_
        }
        return self

    def _check_columns(self, X: pd.DataFrame) -> None:
        missing = [c for c in self.columns_ if c not in X.columns]
        if missing:
            raise DataError([Problem(
                table="features", column=", ".join(missing[:10]), rule="missing column",
                count=len(missing),
                message=f"{len(missing)} feature column(s) the model was trained on are absent",
                fix="send every feature column the model was trained on (missing values may "
                    "be null, but the column must be there)")], context="churn features")

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """A new frame with the training columns in training order: floats and categoricals.

        Missing columns are an error naming them; extra columns are ignored.
        """
        self._check_columns(X)
        out = {}
        for c in self.numeric_:
            col = X[c]
            if col.dtype == np.float64:  # fast path: already typed (training, batch)
                out[c] = round_significant(col.to_numpy())
            else:
                out[c] = round_significant(
                    pd.to_numeric(col, errors="coerce").astype("float64").to_numpy())
        for c in self.categorical_:
            col = X[c]
            cats = self._category_index(c)
            if isinstance(col.dtype, pd.CategoricalDtype) and col.cat.categories.equals(cats):
                out[c] = col.array
                continue
            values = col.astype("object").where(col.notna(), None)
            values = values.map(lambda v: None if v is None else str(v))
            known = values.isin(cats)  # unseen categories become missing
            out[c] = pd.Categorical(values.where(known, None), categories=cats)
        return pd.DataFrame(out, index=X.index)[self.columns_]

    def _category_index(self, column: str) -> pd.Index:
        cache = self.__dict__.setdefault("_category_cache", {})
        if column not in cache:
            cache[column] = pd.Index(self.categories_[column], dtype=object)
        return cache[column]

    def matrix(self, X: pd.DataFrame) -> np.ndarray:
        """``to_matrix(transform(X))`` in one pass, without the intermediate frame (the
        scoring path: a handful of numpy operations instead of one per column)."""
        self._check_columns(X)
        out = np.empty((len(X), len(self.columns_)))
        position = {c: i for i, c in enumerate(self.columns_)}
        if self.numeric_:
            block = X[self.numeric_]
            try:
                values = block.to_numpy(dtype=float, na_value=np.nan)
            except (TypeError, ValueError):  # text in a numeric column: per column
                values = np.column_stack([pd.to_numeric(block[c], errors="coerce")
                                          .astype("float64").to_numpy() for c in self.numeric_])
            out[:, [position[c] for c in self.numeric_]] = round_significant(values)
        for c in self.categorical_:
            col = X[c]
            cats = self._category_index(c)
            if isinstance(col.dtype, pd.CategoricalDtype) and col.cat.categories.equals(cats):
                codes = col.cat.codes.to_numpy().astype(float)
            else:
                values = [None if v is None or (isinstance(v, float) and v != v) else str(v)
                          for v in col.tolist()]
                codes = cats.get_indexer(values).astype(float)
            codes[codes < 0] = np.nan  # missing or never seen in training
            out[:, position[c]] = codes
        return out

    def to_matrix(self, Xf: pd.DataFrame) -> np.ndarray:
        """A typed frame (from :meth:`transform`) as floats: categories as their codes
        (missing = NaN), the layout LightGBM uses internally for pandas categoricals."""
        cols = []
        for c in self.columns_:
            col = Xf[c]
            if c in self.categorical_:
                codes = col.cat.codes.to_numpy().astype(float)
                codes[codes < 0] = np.nan
                cols.append(codes)
            else:
                cols.append(col.to_numpy(dtype=float))
        return np.column_stack(cols) if cols else np.empty((len(Xf), 0))


SIGNIFICANT_DIGITS = 10


def round_significant(x: np.ndarray, digits: int = SIGNIFICANT_DIGITS) -> np.ndarray:
    """Values rounded to ``digits`` significant digits, in training and in scoring alike.

    A feature row that travelled as JSON (10 significant digits) then scores exactly like
    the same row computed in-process: ``620.7099999999999`` and ``620.71`` are one value, and
    no tree split falls between them.

    >>> round_significant(np.array([620.7099999999999, 620.71, -4.166666666666664, np.nan]))
    array([620.71      , 620.71      ,  -4.16666667,          nan])
    """
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = np.floor(np.log10(np.abs(x)))
        scale = 10.0 ** np.where(np.isfinite(mag), digits - 1 - mag, 0)
        out = np.round(x * scale) / scale
    return np.where(np.isfinite(out), out, x)


def as_binary_labels(y, name: str = "label") -> np.ndarray:
    """0/1 int array from 0/1, bool, or yes/no-like values; two classes required."""
    arr = np.asarray(y)
    if arr.dtype.kind in "iub":
        out = arr.astype(int)
    elif arr.dtype.kind == "f":
        if np.isnan(arr).any():
            raise ForecastingError(f"{name} has missing values: every row needs a label")
        out = arr.astype(int)
    else:
        raise ForecastingError(f"{name} must be 0/1 integers; got dtype {arr.dtype}")
    bad = set(np.unique(out)) - {0, 1}
    if bad:
        raise ForecastingError(f"{name} must be 0/1; found {sorted(bad)[:5]}")
    if len(np.unique(out)) < 2:
        raise ForecastingError(
            f"{name} has only one class ({int(out[0]) if len(out) else 'no rows'}): a churn model "
            "needs both churned (1) and retained (0) examples")
    return out
