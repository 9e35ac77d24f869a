"""The validated tables of one data set, as plain DataFrames with the contract's columns."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import pandas as pd


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

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables that are present, by name."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, pd.DataFrame):
                out[f.name] = value
        return out
