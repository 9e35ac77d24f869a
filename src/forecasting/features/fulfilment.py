"""Order fulfilment features: how well the customer was served, as known at the cutoff C.

Over completed orders placed in ``(C - 365 days, C]`` (an order is delivered when its last line
is; delivery dates after C are not known at C):

* ``on_time_rate_365d``: orders delivered on or before their promised day / orders delivered.
* ``delay_mean_days_365d``: mean days delivered after the promised day (0 when on time).
* ``late_open_orders``: orders past their promised day and still not delivered at C.

Without promised/delivered dates every feature is missing (NaN).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.features._common import DAY, count_by, customer_codes, mean_by, ratio
from forecasting.schema import CUSTOMER_ID, DELIVERED_DATE, ORDER_DATE, PROMISED_DATE

NAMES = ["on_time_rate_365d", "delay_mean_days_365d", "late_open_orders"]


def fulfilment_features(orders: pd.DataFrame, customers: pd.Index,
                        cutoff: pd.Timestamp) -> dict[str, np.ndarray]:
    n = len(customers)
    if PROMISED_DATE not in orders or DELIVERED_DATE not in orders:
        return {name: np.full(n, np.nan) for name in NAMES}
    o = orders[orders[ORDER_DATE] > cutoff - pd.Timedelta(days=365)]
    code = customer_codes(o[CUSTOMER_ID], customers)
    keep = code >= 0
    o, code = o[keep], code[keep]
    promised = o[PROMISED_DATE].dt.normalize()
    delivered = o[DELIVERED_DATE].where(o[DELIVERED_DATE] <= cutoff)  # later: unknown at C
    known = (delivered.notna() & promised.notna()).to_numpy()
    late_days = ((delivered.dt.normalize() - promised) / DAY).to_numpy(dtype=float,
                                                                       na_value=np.nan)
    on_time = known & (late_days <= 0)
    delay = np.where(known, np.maximum(late_days, 0), np.nan)
    overdue = (delivered.isna() & (promised < cutoff.normalize())).to_numpy()
    return {
        "on_time_rate_365d": ratio(count_by(code, n, on_time), count_by(code, n, known)),
        "delay_mean_days_365d": mean_by(code, delay, n),
        "late_open_orders": np.where(np.isnan(count_by(code, n)), np.nan,
                                     count_by(code, n, overdue)),
    }
