"""Adapters that convert public data layouts into the data contract.

Each adapter is a pure function ``convert(raw) -> (Dataset, ImportReport)``: it never reads
or writes files (the CLI does, through :mod:`forecasting.io`) and never drops a row silently.
Every raw line is either converted or set aside with a reason, and the report counts both, so
that ``lines_read == converted + sum(set_aside.values())`` always holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass
class ImportReport:
    """What an adapter converted and what it set aside, and why."""

    source: str
    lines_read: int = 0
    invoices: int = 0
    customers: int = 0
    products: int = 0
    converted: int = 0
    returned: int = 0
    without_customer: int = 0
    set_aside: dict[str, int] = field(default_factory=dict)
    repairs: dict[str, int] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The report as a two-column table (``item``, ``count``) for printing."""
        rows = [
            ("lines read", self.lines_read),
            ("invoices", self.invoices),
            ("customers", self.customers),
            ("products", self.products),
            ("lines converted", self.converted),
            ("  of which returned (cancellations)", self.returned),
            ("  of which without customer (demand only)", self.without_customer),
            ("lines set aside", sum(self.set_aside.values())),
        ]
        rows += [(f"  set aside: {why}", n) for why, n in self.set_aside.items()]
        rows += [(f"repaired: {what}", n) for what, n in self.repairs.items()]
        return pd.DataFrame(rows, columns=["item", "count"])

    def as_dict(self) -> dict:
        return {k: (dict(v) if isinstance(v, dict) else v) for k, v in self.__dict__.items()}
