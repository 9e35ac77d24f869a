"""Start the real API (`bentoml serve`) for a benchmark and wait until it is ready."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

from forecasting.cli.serve import bentoml_command


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(port: int, logfile: Path, env: dict | None = None,
          wait_s: float = 120) -> subprocess.Popen:
    """The server on 127.0.0.1:``port`` (its own process group, stopped with os.killpg)."""
    proc = subprocess.Popen(bentoml_command("127.0.0.1", port), stdout=logfile.open("w"),
                            stderr=subprocess.STDOUT, start_new_session=True, env=env)
    deadline = time.time() + wait_s
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited:\n{logfile.read_text()[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGKILL)
    raise SystemExit(f"server not ready in {wait_s:.0f} s")
