"""The one feature function behind training, batch scoring and the API.

:func:`build_features` returns one row per customer ACTIVE at the cutoff (a completed order in
the lookback window ``(C - lookback_days, C]``), computed only from events at or before the
cutoff instant C (see :mod:`forecasting.cutoff` for what an as-of date means). Appending events
after C never changes the result; a test proves it.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from forecasting.cutoff import as_of_instant
from forecasting.labels import active_customers
from forecasting.settings import DEFAULT_LOOKBACK_DAYS
from forecasting.dataset import Dataset
from forecasting.features.complaints import complaint_features
from forecasting.features.fulfilment import fulfilment_features
from forecasting.features.rfm import order_table, purchase_features
from forecasting.features.satisfaction import satisfaction_features
from forecasting.schema import CREATED_AT, CUSTOMER_ID, ORDER_DATE

log = logging.getLogger(__name__)

ATTRIBUTE_PREFIX = "attr_"


def build_features(data: Dataset, as_of, lookback_days: int = DEFAULT_LOOKBACK_DAYS) -> pd.DataFrame:
    """Customer features as of a cutoff.

    Args:
        data: validated tables (``forecasting.io.read_dataset``); absent tables give NaN
            features, not errors.
        as_of: the cutoff; a date without a time means the end of that day.
        lookback_days: a customer is active (gets a row) with a completed order in
            ``(C - lookback_days, C]``.

    Returns:
        DataFrame indexed by ``customer_id`` (sorted), numeric features (names carry unit and
        window, see the module docstrings of ``forecasting.features.*``) and customer attributes
        prefixed ``attr_`` (text as pandas ``category``). Inputs are not modified.

    Example:
        >>> import pandas as pd
        >>> from forecasting.dataset import Dataset
        >>> orders = pd.DataFrame({"order_id": ["1", "2"], "customer_id": ["a", "a"],
        ...     "product_id": ["p", "p"], "amount": [10.0, 30.0], "quantity": [1.0, 3.0],
        ...     "status": ["completed"] * 2,
        ...     "order_date": pd.to_datetime(["2024-01-01", "2024-01-11"])})
        >>> f = build_features(Dataset(orders), "2024-01-21")
        >>> f.loc["a", ["days_since_last_order", "orders_30d", "amount_30d",
        ...             "order_gap_mean_days"]].tolist()
        [10.0, 2.0, 40.0, 10.0]
    """
    cutoff = as_of_instant(as_of)
    lines = data.orders
    lines = lines[(lines[ORDER_DATE] <= cutoff) & lines[CUSTOMER_ID].notna()]
    orders = order_table(lines)
    customers = active_customers(orders, cutoff, lookback_days)
    created = None
    if data.customers is not None and CREATED_AT in data.customers:
        created = data.customers.drop_duplicates(CUSTOMER_ID).set_index(CUSTOMER_ID)[CREATED_AT]
    cols: dict[str, np.ndarray] = {}
    cols.update(purchase_features(lines, orders, customers, cutoff, created))
    cols.update(fulfilment_features(orders, customers, cutoff))
    cols.update(complaint_features(data.complaints, customers, cutoff))
    cols.update(satisfaction_features(data.surveys, customers, cutoff))
    out = pd.DataFrame(cols, index=customers)
    attrs = customer_attributes(data.customers, customers)
    if attrs is not None:
        out = out.join(attrs)
    log.debug("features as of %s: %d customers x %d columns", cutoff, *out.shape)
    return out


def customer_attributes(customers: pd.DataFrame | None, index: pd.Index) -> pd.DataFrame | None:
    """Extra columns of the customers table as ``attr_<name>``: numbers stay numbers, text
    becomes a category."""
    table = attribute_values(customers, index)
    if table is None:
        return None
    out = {}
    for c in table.columns:
        s = table[c]
        num = pd.to_numeric(s, errors="coerce")
        if attribute_is_number(int(s.notna().sum()), int(num.notna().sum())):
            out[ATTRIBUTE_PREFIX + c] = num.astype(float)
        else:
            out[ATTRIBUTE_PREFIX + c] = s.astype("str").where(s.notna()).astype("category")
    return pd.DataFrame(out, index=index)


def attribute_values(customers: pd.DataFrame | None, index: pd.Index) -> pd.DataFrame | None:
    """The extra columns of the customers table (not id, not created_at) for the customers of
    ``index``, as stored; None when there are none."""
    if customers is None:
        return None
    extra = [c for c in customers.columns if c not in (CUSTOMER_ID, CREATED_AT)]
    if not extra:
        return None
    return customers.drop_duplicates(CUSTOMER_ID).set_index(CUSTOMER_ID)[extra].reindex(index)


def attribute_is_number(present: int, numeric: int) -> bool:
    """An attribute is a number when it has values and every one of them reads as a number
    (``present`` values, ``numeric`` of them numbers, over all customers of the table)."""
    return present > 0 and numeric == present
