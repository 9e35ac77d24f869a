"""Complaint features as of a cutoff C (windows ``(C - w days, C]`` by ``opened_at``).

* ``complaints_<w>d`` and ``complaints_<category>_<w>d`` for w in 90, 365 and every category.
* ``complaints_open``: opened at or before C and not resolved by C (a complaint resolved after
  the cutoff was open at the cutoff).
* ``complaint_resolution_mean_days_365d``: mean of ``resolved_at - opened_at`` in days over
  complaints opened in the last 365 days and resolved by C.
* ``days_since_last_complaint``: calendar days from the last complaint's day to C's day.

Without a complaints table every feature is missing (NaN), not zero.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.features._common import (
    DAY, count_by, customer_codes, days_before, mean_by, min_by,
)
from forecasting.schema import CATEGORY, COMPLAINT_CATEGORIES, CUSTOMER_ID, OPENED_AT, RESOLVED_AT

WINDOWS = (90, 365)


def complaint_feature_names() -> list[str]:
    names = []
    for w in WINDOWS:
        names.append(f"complaints_{w}d")
        names += [f"complaints_{c}_{w}d" for c in COMPLAINT_CATEGORIES]
    return names + ["complaints_open", "complaint_resolution_mean_days_365d",
                    "days_since_last_complaint"]


def complaint_features(complaints: pd.DataFrame | None, customers: pd.Index,
                       cutoff: pd.Timestamp) -> dict[str, np.ndarray]:
    n = len(customers)
    if complaints is None:
        return {name: np.full(n, np.nan) for name in complaint_feature_names()}
    c = complaints[complaints[OPENED_AT] <= cutoff]
    code = customer_codes(c[CUSTOMER_ID], customers)
    keep = code >= 0
    c, code = c[keep], code[keep]
    opened = c[OPENED_AT].to_numpy()
    cat = c[CATEGORY].to_numpy()
    out: dict[str, np.ndarray] = {}
    for w in WINDOWS:
        m = opened > np.datetime64(cutoff - pd.Timedelta(days=w))
        out[f"complaints_{w}d"] = count_by(code, n, m)
        for name in COMPLAINT_CATEGORIES:
            out[f"complaints_{name}_{w}d"] = count_by(code, n, m & (cat == name))
    resolved = c[RESOLVED_AT] if RESOLVED_AT in c else pd.Series(pd.NaT, index=c.index)
    known = (resolved <= cutoff).to_numpy()  # NaT compares False: still open
    out["complaints_open"] = count_by(code, n, ~known)
    days = ((resolved - c[OPENED_AT]) / DAY).to_numpy(dtype=float, na_value=np.nan)
    recent = opened > np.datetime64(cutoff - pd.Timedelta(days=365))
    out["complaint_resolution_mean_days_365d"] = mean_by(code, np.where(known, days, np.nan), n,
                                                         recent)
    out["days_since_last_complaint"] = min_by(code, days_before(cutoff.normalize(),
                                                                 c[OPENED_AT]), n)
    return out
