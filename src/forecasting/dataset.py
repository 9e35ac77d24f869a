"""The validated tables of one data set, as plain DataFrames with the contract's columns."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import pandas as pd

from forecasting.cutoff import Cutoff
from forecasting.schema import (
    CREATED_AT, DELIVERED_DATE, OPENED_AT, ORDER_DATE, RESOLVED_AT, SURVEYED_AT,
)


@dataclass
class Dataset:
    """Tables of one data set after validation.

    ``orders`` is always present; the others are ``None`` when the data set has no such
    table (Online Retail has no surveys): features from an absent table are missing, not
    errors. Column names and types are those of :mod:`forecasting.schema`: ids are ``str``,
    dates are naive ``datetime64``, ``orders.status`` is filled with ``completed`` when absent.
    """

    orders: pd.DataFrame
    customers: pd.DataFrame | None = None
    complaints: pd.DataFrame | None = None
    surveys: pd.DataFrame | None = None
    inventory: pd.DataFrame | None = None
    products: pd.DataFrame | None = None
    repairs: dict[str, int] = field(default_factory=dict)  # "complaints.category -> other": n

    def known_at(self, cutoff) -> Dataset:
        """The data set as it was at ``cutoff`` (a :class:`forecasting.cutoff.Cutoff` or an
        as-of value): events after it removed, dates after it (a delivery, a resolution not
        yet known then) emptied. Inventory and products are kept as they are.

        >>> o = pd.DataFrame({"order_date": pd.to_datetime(["2024-01-01", "2024-02-01"]),
        ...                   "delivered_date": pd.to_datetime(["2024-01-20", "2024-02-03"])})
        >>> Dataset(o).known_at("2024-01-10").orders["delivered_date"].isna().tolist()
        [True]
        """
        c = Cutoff.of(cutoff).instant

        def cut(df, when, later=()):
            if df is None or when not in df:
                return df
            out = df[df[when] <= c].copy()
            for col in later:
                if col in out:
                    out[col] = out[col].where(out[col] <= c)
            return out

        return Dataset(orders=cut(self.orders, ORDER_DATE, (DELIVERED_DATE,)),
                       customers=cut(self.customers, CREATED_AT),
                       complaints=cut(self.complaints, OPENED_AT, (RESOLVED_AT,)),
                       surveys=cut(self.surveys, SURVEYED_AT), inventory=self.inventory,
                       products=self.products, repairs=dict(self.repairs))

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables that are present, by name."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, pd.DataFrame):
                out[f.name] = value
        return out
