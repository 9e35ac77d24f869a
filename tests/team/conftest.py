"""A real PostgreSQL server for the team-mode tests, started by the test session itself.

Where the server binaries are (``initdb`` and ``pg_ctl`` on PATH or under
``/usr/lib/postgresql/*/bin``), a throw-away cluster is initialised in a temporary folder,
started on a free 127.0.0.1 port and stopped (``pg_ctl stop``) at the end of the session.
PostgreSQL refuses to run as root, so as root the commands run as the ``postgres`` user
(``runuser -u postgres --``) in a folder it owns. Without the binaries, the driver
(``pip install -e '.[postgres]'``) or, as root, a ``postgres`` user, the tests are skipped with
the reason.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin() -> Path | None:
    found = shutil.which("initdb")
    candidates = ([Path(found).parent] if found else []) + [
        Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    return None


@dataclass
class Postgres:
    host: str
    port: int
    user: str

    def url(self, database: str, driver: str = "psycopg2") -> str:
        return f"postgresql+{driver}://{self.user}@{self.host}:{self.port}/{database}"

    def create_database(self, prefix: str = "mlflow") -> str:
        """A new empty database; returns its name."""
        import psycopg2  # the driver is checked by the fixture before this is reached

        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        conn = psycopg2.connect(host=self.host, port=self.port, user=self.user,
                                dbname="postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        conn.close()
        return name

    def tracking_uri(self, prefix: str = "mlflow") -> str:
        return self.url(self.create_database(prefix))


@pytest.fixture(scope="session")
def postgres():
    """A running PostgreSQL 127.0.0.1:<free port>, trust authentication, user ``postgres``."""
    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or in "
                    "/usr/lib/postgresql/*/bin: team-mode tests need them "
                    "(e.g. apt-get install postgresql)")
    try:
        import psycopg2  # noqa: F401  (the driver of the 'postgres' extra)
    except ImportError:
        pytest.skip("psycopg2 is not installed: pip install -e '.[postgres]' (the test extra "
                    "includes it)")
    prefix: list[str] = []
    owner = None
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the "
                        "PostgreSQL server as (initdb refuses root)")
        runuser = shutil.which("runuser")
        prefix = [runuser, "-u", "postgres", "--"] if runuser else None
        if prefix is None:
            pytest.skip("running as root without runuser to start PostgreSQL as 'postgres'")
    tmp = Path(tempfile.mkdtemp(prefix="forecasting-pg-"))
    if owner is not None:
        os.chown(tmp, owner.pw_uid, owner.pw_gid)
    data, log = tmp / "data", tmp / "server.log"
    port = free_port()

    def run(*cmd: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(prefix + list(cmd), capture_output=True, text=True,
                              timeout=timeout, cwd=tmp)

    init = run(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
               "-E", "UTF8", "--no-sync", "--no-instructions")
    if init.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        pytest.skip(f"initdb failed, cannot start PostgreSQL for team-mode tests: "
                    f"{init.stderr.strip()[-500:]}")
    options = (f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1 -c fsync=off "
               f"-c synchronous_commit=off -c full_page_writes=off -c max_connections=100")
    start = run(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log),
                "-w", "-t", "60", "start")
    if start.returncode != 0:
        text = log.read_text()[-1500:] if log.exists() else start.stderr
        shutil.rmtree(tmp, ignore_errors=True)
        pytest.fail(f"PostgreSQL did not start: {text}")
    try:
        yield Postgres(host="127.0.0.1", port=port, user="postgres")
    finally:
        stop = run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        if stop.returncode != 0:  # last resort: the postmaster's PID from its own file
            pid_file = data / "postmaster.pid"
            if pid_file.exists():
                try:
                    os.kill(int(pid_file.read_text().split()[0]), signal.SIGQUIT)
                except (ProcessLookupError, ValueError):
                    pass
        shutil.rmtree(tmp, ignore_errors=True)


class MlflowServer:
    """``mlflow server`` over a PostgreSQL backend store with a local artifact store,
    on a free 127.0.0.1 port, stopped by its PID."""

    def __init__(self, backend_uri: str, artifacts: Path, log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        exe = Path(sys.executable).parent / "mlflow"
        cmd = [str(exe) if exe.exists() else "mlflow", "server",
               "--backend-store-uri", backend_uri, "--artifacts-destination", str(artifacts),
               "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("MLFLOW_TRACKING_URI", None)
        self.proc = subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT,
                                     env=env, start_new_session=True)

    def wait_ready(self, timeout: float = 120) -> None:
        import httpx

        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mlflow server exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"mlflow server not ready in {timeout} s: "
                           f"{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.fixture
def mlflow_server(postgres, tmp_path):
    """A running ``mlflow server`` on a fresh PostgreSQL database; yields it."""
    server = MlflowServer(postgres.tracking_uri("server"), tmp_path / "mlartifacts",
                          tmp_path / "mlflow-server.log")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
