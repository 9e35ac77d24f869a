"""Docstring examples of the package run as tests (doctests of src/forecasting only).

Collected here instead of with ``--doctest-modules``, which would also import the test
folders' conftest.py files as doctest modules under one name and stop the run.
"""

from __future__ import annotations

from pathlib import Path

from _pytest.doctest import DoctestModule

PACKAGE = Path(__file__).parent / "src" / "forecasting"


def pytest_collect_file(file_path: Path, parent):
    if (file_path.suffix == ".py" and PACKAGE in file_path.parents
            and file_path.name != "__main__.py"):  # importing it would run the command line
        return DoctestModule.from_parent(parent, path=file_path)
    return None


def pytest_addoption(parser):
    parser.addoption("--screenshots-to", default=None, metavar="DIR",
                     help="copy the browser tests' screenshots (tests/browser) to DIR, e.g. "
                          "docs/screenshots for the README")
