"""A real `bentoml serve` of the API on a free 127.0.0.1 port, stopped by its PID."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from forecasting.cli.serve import bentoml_command


@pytest.fixture(autouse=True)
def _root_logging_restored():
    """An in-process ``forecasting`` command points the root logger at this test's captured
    stderr; put the handlers back so later tests do not log into a closed stream."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, env: dict[str, str], log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.proc = subprocess.Popen(
            bentoml_command("127.0.0.1", self.port), env=env, stdout=log.open("w"),
            stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"server not ready in {timeout} s: {self.log.read_text()[-3000:]}")

    def workers(self) -> list[int]:
        """The PIDs of the server's worker processes (BentoML starts each in a session of its
        own, so a signal to the server's process group does not reach them)."""
        return descendants(self.proc.pid)

    def kill(self) -> None:
        """SIGKILL the server and its workers at once (a crash, not a shutdown)."""
        workers = self.workers()
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        _kill_all(workers)

    def stop(self) -> None:
        if self.proc.poll() is not None:  # already stopped (a test killed it)
            return
        workers = self.workers()
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        except ProcessLookupError:
            pass
        _kill_all(workers)  # any worker the shutdown left behind


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _kill_all(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def start_server(tmp: Path, snapshot: Path | None, mlflow_uri: str, api_key: str | None = None,
                 extra_env: dict[str, str] | None = None, log_name: str | None = None,
                 ) -> Server:
    """``snapshot``: a fixed folder (FORECASTING_SNAPSHOT_DIR); None: the store's CURRENT
    (FORECASTING_SNAPSHOT_ROOT, default <tmp>/models/snapshots)."""
    env = {**os.environ, "MLFLOW_TRACKING_URI": mlflow_uri,
           "FORECASTING_MODELS_DIR": str(tmp / "models"),
           "BENTOML_HOME": str(tmp / "bentoml"), "PYTHONUNBUFFERED": "1"}
    for name in ("FORECASTING_API_KEY", "FORECASTING_SNAPSHOT_DIR"):
        env.pop(name, None)
    if snapshot is not None:
        env["FORECASTING_SNAPSHOT_DIR"] = str(snapshot)
    if api_key:
        env["FORECASTING_API_KEY"] = api_key
    env.update(extra_env or {})
    bin_dir = os.path.dirname(sys.executable)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    server = Server(env, tmp / (log_name or f"server-{api_key or 'open'}.log"))
    try:
        server.wait_ready()
    except Exception:
        server.stop()
        raise
    return server


@pytest.fixture(scope="session")
def server_factory():
    """``start_server(tmp, snapshot, mlflow_uri, api_key=None)`` for tests that need their own."""
    return start_server


@pytest.fixture(scope="session")
def served(tmp_path_factory):
    """Sample data -> snapshot (no models: segments and KPIs only) -> a running server.

    Model-backed endpoints are exercised with models in test_service_models.py."""
    from forecasting import sample
    from forecasting.pipelines.snapshot import build_snapshot

    tmp = tmp_path_factory.mktemp("served")
    data = sample.generate(customers=150, products=8, start="2024-01-01", end="2024-09-30",
                           seed=5)
    sample.write(data, tmp / "data", fmt="parquet")
    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    old = dict(os.environ)
    os.environ["MLFLOW_TRACKING_URI"] = uri
    try:
        build_snapshot(tmp / "data", out_dir=tmp / "snapshot")
    finally:
        os.environ.clear()
        os.environ.update(old)
    server = start_server(tmp, tmp / "snapshot", uri)
    server.customers = data.customers["customer_id"].tolist()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def champions(tmp_path_factory):
    """Tiny champion models (churn: logistic regression on two cutoffs; demand: two baselines)
    trained and promoted through the real CLI into an MLflow store of their own, on a small
    sample: ``(tmp, data_dir, env)`` with ``env`` the variables that point at it."""
    from forecasting import sample
    from forecasting.cli import main

    tmp = tmp_path_factory.mktemp("champions")
    data = sample.generate(customers=200, products=6, start="2023-06-01", end="2024-09-30",
                           seed=3)
    sample.write(data, tmp / "data", fmt="parquet")
    env = {"MLFLOW_TRACKING_URI": f"sqlite:///{tmp / 'tracking' / 'mlflow.db'}",
           "FORECASTING_MODELS_DIR": str(tmp / "models")}
    (tmp / "tracking").mkdir()
    old = dict(os.environ)
    os.environ.update(env)
    os.environ.pop("FORECASTING_SNAPSHOT_DIR", None)
    try:
        for argv in (["train", "churn", str(tmp / "data"), "--candidates", "logreg",
                      "--n-cutoffs", "2"],
                     ["promote", "churn"],
                     ["train", "demand", str(tmp / "data"), "--models", "seasonal_naive,mean",
                      "--windows", "1", "--horizon", "4"],
                     ["promote", "demand"]):
            assert main(["-q", *argv]) == 0, argv
    finally:
        os.environ.clear()
        os.environ.update(old)
    return tmp, tmp / "data", env
