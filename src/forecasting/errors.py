"""User-facing errors: what is wrong, where, and how to fix it.

The CLI turns every :class:`ForecastingError` into a message and exit code 1, never a
traceback. Library code raises these for bad input; anything else is a bug.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class ForecastingError(Exception):
    """An error the user can fix: bad input, missing model, wrong option."""


@dataclass
class Problem:
    """One broken rule in one table column, with a few offending rows and the fix."""

    table: str
    column: str | None
    rule: str
    count: int
    message: str
    fix: str
    rows: list[dict[str, Any]] = field(default_factory=list)  # up to 5 examples

    def format(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        count = f" ({self.count:,} row(s))" if self.count else ""
        lines = [f"[{where}] {self.rule}: {self.message}{count}"]
        for r in self.rows:
            lines.append(f"    e.g. {r}")
        lines.append(f"    fix: {self.fix}")
        return "\n".join(lines)


class DataError(ForecastingError):
    """Input tables break the data contract; carries every problem found, not only the first."""

    def __init__(self, problems: list[Problem], context: str = "input data"):
        self.problems = list(problems)
        self.context = context
        super().__init__(self.format())

    def format(self) -> str:
        head = f"{self.context}: {len(self.problems)} problem(s) found"
        return "\n".join([head, *(p.format() for p in self.problems)])
