"""The package's architecture, checked: which modules may import what, and what lives where."""

from __future__ import annotations

import ast
from pathlib import Path

import forecasting

PKG = Path(forecasting.__file__).parent
FOUNDATION = {"__init__", "__main__", "schema", "errors", "io", "dates", "validate", "cutoff",
              "settings", "tracking", "dataset", "labels"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    names |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    return names


def _importers(top: str) -> list[str]:
    return sorted(str(p.relative_to(PKG)) for p in PKG.rglob("*.py")
                  if any(m == top or m.startswith(top + ".") for m in _imports(p)))


def test_top_level_keeps_only_the_foundation_and_packages():
    modules = {p.stem for p in PKG.glob("*.py")}
    assert modules <= FOUNDATION, sorted(modules - FOUNDATION)
    packages = {p.name for p in PKG.iterdir() if (p / "__init__.py").exists()}
    assert {"analytics", "api", "churn", "demand", "features", "pipelines"} <= packages


def test_mlflow_and_bentoml_are_each_imported_by_one_module():
    assert _importers("mlflow") == ["tracking.py"]
    assert _importers("bentoml") == ["api/service.py"]


def test_analytics_take_scores_as_arguments():
    for path in (PKG / "analytics").glob("*.py"):
        bad = [m for m in _imports(path) if m.startswith("forecasting.churn")
               or m.endswith("tracking") or m.startswith("forecasting.api")]
        assert not bad, (path.name, bad)


def _is_import(line: str) -> bool:
    s = line.strip()
    return s.startswith("import ") or (s.startswith("from ") and " import " in s)


def test_local_imports_say_why():
    """A function-local import keeps a heavy library off the CLI's start-up path (or breaks
    an import cycle), and a comment on its block of imports (or the line above) says so."""
    unexplained = []
    for path in PKG.rglob("*.py"):
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            if not (line.startswith((" ", "\t")) and _is_import(line)):
                continue
            start = i
            while start > 0 and (_is_import(lines[start - 1]) or "#" in lines[start - 1]
                                 and lines[start - 1].strip().startswith("#")):
                start -= 1
            block = lines[max(0, start - 1):i + 1]
            if not any("#" in b for b in block):
                unexplained.append(f"{path.relative_to(PKG)}:{i + 1}: {line.strip()}")
    assert not unexplained, "\n".join(unexplained)


def test_shared_defaults_are_defined_once():
    """The interval levels, the lookback and the churn horizon used by several modules come
    from settings.py; a second literal copy would drift (it did, before)."""
    import re

    copies = []
    pattern = re.compile(r"(levels\s*[:=][^\n]*\(80, 95\)|lookback_days: int = 365|"
                         r"horizon_days: int = 90\b)")
    for path in PKG.rglob("*.py"):
        if path.name == "settings.py":
            continue
        for i, line in enumerate(path.read_text().splitlines()):
            if pattern.search(line) and ">>>" not in line:
                copies.append(f"{path.relative_to(PKG)}:{i + 1}: {line.strip()}")
    assert not copies, "\n".join(copies)
