"""The snapshot swap under load: a real `bentoml serve` following the snapshot store, 8 concurrent
clients, `forecasting refresh` run while they post.

Sets up its own world in a temporary folder (sample data, small champion models trained and
promoted through the CLI, a first snapshot), then measures two phases against the same server:

* baseline -- the clients alone, no refresh (the latency the swap is compared with);
* refresh  -- the clients while `forecasting refresh` runs and the service swaps the snapshot.

It prints requests, failures, p50/p99 latency and req/s per phase, how long after CURRENT
changed the new as_of was first answered, and whether any answer mixed two snapshots.

    python benchmarks/bench_reload.py [--customers 1000] [--reload-seconds 1] [--baseline 10]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _server import free_port, start
import numpy as np
import pandas as pd


def _cli(env: dict, *argv: str) -> None:
    r = subprocess.run([sys.executable, "-m", "forecasting", "-q", *argv], env=env,
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"forecasting {' '.join(argv)} failed:\n{r.stderr[-3000:]}")


async def _load(url: str, ids: list[str], stop: asyncio.Event, out: list) -> None:
    async def client(k: int) -> None:
        async with httpx.AsyncClient(base_url=url, timeout=30) as c:
            i = k
            while not stop.is_set():
                body = {"customer_ids": [ids[(i + j) % len(ids)] for j in range(5)]}
                t = time.perf_counter()
                try:
                    r = await c.post("/churn/score", json=body)
                    ok = r.status_code == 200
                    out.append((time.time(), time.perf_counter() - t, ok,
                                r.json() if ok else r.text))
                except httpx.HTTPError as exc:
                    out.append((time.time(), time.perf_counter() - t, False, repr(exc)))
                i += 8

    await asyncio.gather(*(client(k) for k in range(8)))


def _row(name: str, rows: list) -> str:
    lat = np.array([r[1] for r in rows]) * 1000
    span = rows[-1][0] - rows[0][0] if len(rows) > 1 else 1.0
    failed = sum(not r[2] for r in rows)
    return (f"{name:<28} {len(rows):>8} {failed:>7} {np.percentile(lat, 50):>8.1f} "
            f"{np.percentile(lat, 99):>8.1f} {len(rows) / span:>8.0f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--customers", type=int, default=1000, help="sample size")
    p.add_argument("--reload-seconds", type=float, default=1.0,
                   help="FORECASTING_RELOAD_SECONDS of the server")
    p.add_argument("--baseline", type=float, default=10.0, help="seconds of the baseline phase")
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp / 'mlflow.db'}",
               "FORECASTING_MODELS_DIR": str(tmp / "models"),
               "FORECASTING_SNAPSHOT_ROOT": str(tmp / "snapshots"),
               "FORECASTING_RELOAD_SECONDS": str(args.reload_seconds),
               "BENTOML_HOME": str(tmp / "bentoml"), "OMP_NUM_THREADS": "1"}
        env.pop("FORECASTING_SNAPSHOT_DIR", None)
        env.pop("FORECASTING_API_KEY", None)
        data = str(tmp / "data")
        t = time.perf_counter()
        _cli(env, "sample", data, "--customers", str(args.customers), "--products", "20",
             "--start", "2023-01-01", "--end", "2024-09-30", "--format", "parquet")
        _cli(env, "train", "churn", data, "--candidates", "logreg", "--n-cutoffs", "3")
        _cli(env, "promote", "churn")
        _cli(env, "train", "demand", data, "--models", "seasonal_naive,mean", "--windows", "1")
        _cli(env, "promote", "demand")
        _cli(env, "refresh", data, "--as-of", "2024-08-31")
        print(f"set-up (sample, train, promote, first refresh): {time.perf_counter() - t:.0f} s")
        root = tmp / "snapshots"
        first = (root / "CURRENT").read_text().strip()
        ids = sorted(pd.read_parquet(root / first / "churn.parquet")["customer_id"].astype(str))

        port = free_port()
        proc = start(port, tmp / "server.log", env)
        url = f"http://127.0.0.1:{port}"
        try:

            async def run() -> tuple[list, list, float, float | None]:
                base: list = []
                stop = asyncio.Event()
                task = asyncio.create_task(_load(url, ids, stop, base))
                await asyncio.sleep(args.baseline)
                stop.set()
                await task
                during: list = []
                stop = asyncio.Event()
                task = asyncio.create_task(_load(url, ids, stop, during))
                r = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "forecasting", "-q", "refresh", data, env=env)
                await r.wait()
                changed = os.stat(root / "CURRENT").st_mtime
                seen = None
                for _ in range(600):
                    seen = next((row[0] for row in list(during) if row[2] and
                                 row[3].get("as_of") == "2024-09-30"), None)
                    if seen:
                        break
                    await asyncio.sleep(0.05)
                await asyncio.sleep(2)
                stop.set()
                await task
                return base, during, changed, seen

            base, during, changed, seen = asyncio.run(run())
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        second = (root / "CURRENT").read_text().strip()
        tables = {}
        for sid in (first, second):
            df = pd.read_parquet(root / sid / "churn.parquet")
            tables[str(df["as_of"].iloc[0])] = dict(zip(df["customer_id"].astype(str),
                                                        df["churn_probability"]))
        mixed = 0
        for row in during:
            if row[2]:
                want = tables[row[3]["as_of"]]
                mixed += any(abs(i["churn_probability"] - want[i["customer_id"]]) > 1e-12
                             for i in row[3]["items"] if i.get("error") is None)
        print(f"\nsnapshot swap under load: {len(ids)} scored customers, 8 concurrent clients, "
              f"5 ids per /churn/score request, FORECASTING_RELOAD_SECONDS="
              f"{args.reload_seconds:g}, 1 API worker, loopback\n")
        print(f"{'phase':<28} {'requests':>8} {'failed':>7} {'p50 ms':>8} {'p99 ms':>8} "
              f"{'req/s':>8}")
        print(_row("baseline (no refresh)", base))
        print(_row("refresh + swap", during))
        after = [r for r in during if seen and r[0] >= seen]
        if after:
            print(_row("after the swap", after))
        lag = "never" if seen is None else f"{seen - changed:.2f} s"
        print(f"\nnew as_of first answered {lag} after CURRENT changed; answers mixing two "
              f"snapshots: {mixed}")


if __name__ == "__main__":
    main()
