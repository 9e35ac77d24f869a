"""Dependency pins live in pyproject.toml; bentofile.yaml and the logged models' requirements
are checked against it, so a version bump in one place cannot leave the others behind."""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from forecasting.tracking import default_pip_requirements

ROOT = Path(__file__).resolve().parents[1]


def _project_requirements() -> dict[str, Requirement]:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return {canonicalize_name(r.name): r for r in map(Requirement, deps)}


def test_bentofile_packages_are_the_project_dependencies():
    project = _project_requirements()
    bento = yaml.safe_load((ROOT / "bentofile.yaml").read_text())["python"]["packages"]
    bento = {canonicalize_name(r.name): r for r in map(Requirement, bento)}
    # the Bento runs on bentoml itself; every other runtime dependency is listed, same spec
    assert set(bento) == set(project) - {"bentoml"}
    for name, req in bento.items():
        assert req.specifier == project[name].specifier, (name, req, project[name])


def test_model_requirements_are_installed_versions_within_the_project_pins():
    project = _project_requirements()
    for line in default_pip_requirements():
        req = Requirement(line)
        name = canonicalize_name(req.name)
        assert name in project, f"{name} is not a project dependency"
        pinned = next(iter(req.specifier)).version
        assert pinned == version(req.name)
        assert project[name].specifier.contains(pinned), (line, str(project[name]))
