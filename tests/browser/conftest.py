"""The web page in a real browser: headless Chromium (Debian's ``chromium`` package) driven by
Playwright through ``executable_path`` (never ``playwright install``), against a real
``bentoml serve`` on 127.0.0.1 with a trained and promoted churn model and an API key.

When Chromium is missing and apt-get is available as root, the session installs it (with
``fonts-noto-cjk`` for the Chinese text); when it is still missing the tests are skipped
with the reason, or FAIL when ``CI=true`` (CI must run them).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from browser_helpers import API_KEY, CATEGORIES_ZH, REGIONS_ZH

CHROMIUM_NAMES = ("chromium", "chromium-browser")
APT_PACKAGES = ["chromium", "fonts-noto-cjk"]


def _load_server_helpers():
    """tests/service/conftest.py's real-server helpers (loaded by path: conftest modules are
    not importable by package name)."""
    path = Path(__file__).parents[1] / "service" / "conftest.py"
    spec = importlib.util.spec_from_file_location("_service_server_helpers", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _unavailable(reason: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and the browser tests cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


def _apt_install() -> str:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    log = []
    for cmd in (["apt-get", "install", "-y", "--no-install-recommends", *APT_PACKAGES],
                ["apt-get", "update"],
                ["apt-get", "install", "-y", "--no-install-recommends", *APT_PACKAGES]):
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1200)
        log.append(f"$ {' '.join(cmd)} -> {r.returncode}\n{r.stderr[-800:]}")
        if r.returncode == 0 and find_chromium():
            break
    return "\n".join(log)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's chromium binary; installed with apt-get when missing and possible."""
    path = find_chromium()
    if path is None:
        can_apt = shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0
        if not can_apt:
            _unavailable("Chromium is not installed and apt-get as root is not available: "
                         "apt-get install chromium fonts-noto-cjk")
        log = _apt_install()
        path = find_chromium()
        if path is None:
            _unavailable(f"apt-get could not install chromium:\n{log[-2000:]}")
    return path


@pytest.fixture(scope="session")
def browser(chromium_path):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the Python package playwright is missing: pip install -e '.[test]'")
    pw = sync_playwright().start()
    b = pw.chromium.launch(executable_path=chromium_path, headless=True,
                           args=["--no-sandbox", "--disable-dev-shm-usage"])
    yield b
    b.close()
    pw.stop()


@pytest.fixture(scope="session")
def site(tmp_path_factory, chromium_path):
    """Sample data (Chinese regions and product categories) -> churn model trained and
    promoted (real MLflow in a temporary folder) -> snapshot -> a running service with an API
    key. Demand forecasts are fitted when the snapshot is built (no demand champion)."""
    from forecasting import sample
    from forecasting.pipelines.snapshot import build_snapshot

    helpers = _load_server_helpers()
    tmp = tmp_path_factory.mktemp("page")
    data = sample.generate(customers=200, products=10, start="2024-01-01", end="2025-06-30",
                           seed=7)
    data.customers["region"] = data.customers["region"].map(REGIONS_ZH)
    data.products["category"] = data.products["category"].map(CATEGORIES_ZH)
    sample.write(data, tmp / "data", fmt="parquet")
    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "FORECASTING_MODELS_DIR": str(tmp / "models"),
           "OMP_NUM_THREADS": "1"}
    for argv in (["train", "churn", str(tmp / "data"), "--candidates", "logreg,lgbm_default"],
                 ["promote", "churn"]):
        r = subprocess.run([sys.executable, "-m", "forecasting", *argv], env=env, cwd=tmp,
                           capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr[-3000:]
    old = dict(os.environ)
    os.environ.update({"MLFLOW_TRACKING_URI": uri, "FORECASTING_MODELS_DIR": str(tmp / "models")})
    try:
        build_snapshot(tmp / "data", out_dir=tmp / "snapshot")
    finally:
        os.environ.clear()
        os.environ.update(old)
    server = helpers.start_server(tmp, tmp / "snapshot", uri, api_key=API_KEY)
    server.key = API_KEY
    server.api = httpx.Client(base_url=server.url, headers={"X-API-Key": API_KEY}, timeout=60)
    yield server
    server.api.close()
    server.stop()


@pytest.fixture(scope="session")
def shots(tmp_path_factory, request):
    """Folder the tests write their screenshots to; ``--screenshots-to DIR`` copies them there
    at the end of the session (e.g. docs/screenshots for the README)."""
    folder = tmp_path_factory.mktemp("screenshots")
    yield folder
    target = request.config.getoption("--screenshots-to")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for f in sorted(folder.glob("*.png")):
            shutil.copy2(f, Path(target) / f.name)


class Console:
    """Errors the page logged (console.error, uncaught exceptions, failed requests)."""

    def __init__(self, page):
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(f"console.{m.type}: {m.text}")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))


@pytest.fixture
def page(browser, site):
    """A fresh browser tab (laptop size) and its console errors, checked at the end."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    tab.console = Console(tab)
    yield tab
    context.close()

