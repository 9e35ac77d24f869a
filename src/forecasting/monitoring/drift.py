"""Population stability index (PSI) of churn features and scores against a training reference.

A *reference* is saved with every churn model at training time (see
:func:`build_reference`): for each numeric feature the bin edges at the deciles of the
training + validation rows and the share of rows in each bin (plus the share of missing
values); for each categorical feature the share of each category seen in training (plus
"other" and missing); for the scores the same decile bins over the model's probabilities on
the holdout rows (rows the model never saw, so the reference looks like what it will produce
in service -- in-sample probabilities of a boosted model are sharper than anything it
produces on new customers and would read as drift on the first refresh).

PSI (hand-written: ten lines of numpy, no library needed for it) compares the shares of a new
population in the same bins::

    PSI = sum over bins of (actual - expected) * ln(actual / expected)

with each share floored at 1e-4 so that an empty bin counts as a large but finite shift.
Usual reading: below 0.1 stable, 0.1-0.25 a moderate shift worth watching, above 0.25 a
large shift (retrain, and look at the features that moved).

Example:
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> ref = build_reference(pd.DataFrame({"x": rng.normal(size=5000)}), rng.uniform(size=5000))
    >>> same = psi_feature(ref["features"]["x"], pd.Series(rng.normal(size=5000)))
    >>> moved = psi_feature(ref["features"]["x"], pd.Series(rng.normal(1.0, 1.0, size=5000)))
    >>> same < 0.02, moved > 0.25
    (True, True)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

N_BINS = 10
FLOOR = 1e-4  # share of an empty bin: a large but finite shift
PSI_WATCH = 0.10
PSI_ACT = 0.25
OTHER = "(other)"
MISSING = "(missing)"
REFERENCE_VERSION = 1


def _numeric(values: pd.Series) -> np.ndarray:
    s = values
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    return pd.to_numeric(s, errors="coerce").astype("float64").to_numpy()


def _is_numeric(values: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values))


def numeric_reference(values, n_bins: int = N_BINS) -> dict[str, Any]:
    """Inner bin edges at the quantiles of ``values`` and the share in each bin; the last
    share is that of missing values."""
    x = _numeric(pd.Series(values))
    ok = x[np.isfinite(x)]
    edges = (np.unique(np.quantile(ok, np.linspace(0, 1, n_bins + 1)[1:-1]))
             if len(ok) else np.array([]))
    return {"type": "numeric", "edges": [float(e) for e in edges],
            "shares": [float(v) for v in numeric_shares(edges, x)], "rows": int(len(x))}


def numeric_shares(edges, values) -> np.ndarray:
    """Shares of ``values`` in the bins ``(-inf, e0], (e0, e1], ..., (ek, inf)`` and missing."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    if n == 0:
        return np.zeros(len(edges) + 2)
    finite = np.isfinite(x)
    idx = np.searchsorted(np.asarray(edges, dtype=float), x[finite], side="left")
    counts = np.bincount(idx, minlength=len(edges) + 1).astype(float)
    return np.append(counts, (~finite).sum()) / n


def categorical_reference(values: pd.Series) -> dict[str, Any]:
    """The share of each category (missing values as their own category)."""
    s = values.astype(object).where(values.notna(), MISSING).astype(str)
    shares = s.value_counts(normalize=True)
    return {"type": "categorical", "categories": [str(c) for c in shares.index],
            "shares": [float(v) for v in shares.to_numpy()], "rows": int(len(s))}


def categorical_shares(ref: dict[str, Any], values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(expected, actual) shares over the reference's categories plus ``(other)``."""
    s = values.astype(object).where(values.notna(), MISSING).astype(str)
    cats = list(ref["categories"])
    known = s.where(s.isin(cats), OTHER)
    actual = known.value_counts(normalize=True).reindex(cats + [OTHER], fill_value=0.0)
    expected = np.append(np.asarray(ref["shares"], dtype=float), 0.0)
    return expected, actual.to_numpy(dtype=float)


def psi(expected, actual, floor: float = FLOOR) -> float:
    """PSI of two share vectors over the same bins (each floored at ``floor``).

    >>> round(psi([0.5, 0.5], [0.5, 0.5]), 6), round(psi([0.5, 0.5], [0.9, 0.1]), 3)
    (0.0, 0.879)
    """
    e = np.maximum(np.asarray(expected, dtype=float), floor)
    a = np.maximum(np.asarray(actual, dtype=float), floor)
    return float(np.sum((a - e) * np.log(a / e)))


def psi_feature(ref: dict[str, Any], values: pd.Series) -> float:
    """PSI of ``values`` against one feature's (or the scores') reference."""
    if ref["type"] == "categorical":
        expected, actual = categorical_shares(ref, pd.Series(values))
        return psi(expected, actual)
    return psi(ref["shares"], numeric_shares(ref["edges"], _numeric(pd.Series(values))))


def build_reference(features: pd.DataFrame, scores, n_bins: int = N_BINS,
                    score_rows: str = "holdout", feature_rows: str = "training + validation"
                    ) -> dict[str, Any]:
    """The reference saved with a churn model: every feature's bins and shares, and the
    scores'. Plain JSON (lists, floats, strings)."""
    feats = {}
    for col in features.columns:
        s = features[col]
        feats[str(col)] = (numeric_reference(s, n_bins) if _is_numeric(s)
                           else categorical_reference(s))
    return {"version": REFERENCE_VERSION, "bins": n_bins, "features": feats,
            "score": numeric_reference(np.asarray(scores, dtype=float), n_bins),
            "rows": {"features": feature_rows, "score": score_rows}}


def drift(reference: dict[str, Any], features: pd.DataFrame | None,
          scores) -> dict[str, float]:
    """``psi_score`` and ``psi_<feature>`` of a scored population against ``reference``.
    Features absent from ``features`` are left out."""
    out = {"psi_score": psi_feature(reference["score"], pd.Series(np.asarray(scores,
                                                                             dtype=float)))}
    if features is not None:
        for name, ref in reference.get("features", {}).items():
            if name in features.columns:
                out[f"psi_{name}"] = psi_feature(ref, features[name])
    return out


def level(value: float) -> str:
    """``stable`` (< 0.1), ``watch`` (0.1-0.25) or ``act`` (> 0.25)."""
    if not np.isfinite(value):
        return "unknown"
    return "act" if value > PSI_ACT else "watch" if value > PSI_WATCH else "stable"
