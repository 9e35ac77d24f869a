"""Satisfaction features from surveys at or before the cutoff C.

* ``csat_last``, ``nps_last``: the latest survey's scores (any time before C).
* ``csat_mean_365d``, ``surveys_365d``: over surveys in ``(C - 365 days, C]``.
* ``csat_trend``: ``csat_last`` minus the mean csat of the customer's EARLIER surveys in the last
  365 days (negative = satisfaction is falling; NaN with one survey).
* ``nps_detractor``: 1 when ``nps_last`` is 0-6, 0 when 7-10, NaN without an nps.
* ``<dimension>_score_mean_365d`` for quality, delivery, service and price (1-5).

Without a surveys table every feature is missing (NaN).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.features._common import count_by, customer_codes, last_by, mean_by, sum_by
from forecasting.schema import CSAT, CUSTOMER_ID, DIMENSIONS, NPS, SURVEYED_AT

NAMES = ["csat_last", "csat_mean_365d", "csat_trend", "surveys_365d", "nps_last",
         "nps_detractor", *(f"{d}_score_mean_365d" for d in DIMENSIONS)]


def satisfaction_features(surveys: pd.DataFrame | None, customers: pd.Index,
                          cutoff: pd.Timestamp) -> dict[str, np.ndarray]:
    n = len(customers)
    if surveys is None:
        return {name: np.full(n, np.nan) for name in NAMES}
    s = surveys[surveys[SURVEYED_AT] <= cutoff]
    code = customer_codes(s[CUSTOMER_ID], customers)
    keep = code >= 0
    s, code = s[keep], code[keep]
    t = s[SURVEYED_AT].to_numpy().astype("datetime64[us]").astype(np.int64)
    csat = s[CSAT].to_numpy(dtype=float)
    recent = t > np.datetime64(cutoff - pd.Timedelta(days=365), "us").astype(np.int64)
    out: dict[str, np.ndarray] = {}
    out["csat_last"] = last_by(code, t, csat, n)
    out["csat_mean_365d"] = mean_by(code, csat, n, recent)
    out["surveys_365d"] = count_by(code, n, recent)
    cnt = count_by(code, n, recent & ~np.isnan(csat))
    tot = sum_by(code, np.nan_to_num(csat), n, recent & ~np.isnan(csat))
    last_in_year = np.where(cnt > 0, out["csat_last"], np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        earlier_mean = np.where(cnt > 1, (tot - last_in_year) / np.maximum(cnt - 1, 1), np.nan)
    out["csat_trend"] = last_in_year - earlier_mean
    if NPS in s:
        nps = s[NPS].to_numpy(dtype=float)
        has = ~np.isnan(nps)
        out["nps_last"] = last_by(code[has], t[has], nps[has], n)
    else:
        out["nps_last"] = np.full(n, np.nan)
    out["nps_detractor"] = np.where(np.isnan(out["nps_last"]), np.nan,
                                    (out["nps_last"] <= 6).astype(float))
    for d in DIMENSIONS:
        values = s[d].to_numpy(dtype=float) if d in s else np.full(len(s), np.nan)
        out[f"{d}_score_mean_365d"] = mean_by(code, values, n, recent)
    return out
