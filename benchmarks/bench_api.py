"""Benchmark: the churn-score API over loopback against in-process scoring of the same rows.

Starts `bentoml serve` on a free 127.0.0.1 port with the snapshot and champion of the current
MLflow store (run `forecasting demo` first, or pass --data to build the snapshot), then measures:

* one customer per request (by id) at concurrency 1, 8 and 32: p50, p99, requests/s;
* one feature row per request (scored by the model now) at concurrency 8;
* a batch of 1,000 customer ids in one request: latency and rows/s;
* a batch of 1,000 feature rows in one request;
* in the same run, in-process: the snapshot lookup and the model's scoring of the same rows
  (single-threaded LightGBM), as the ceiling.

Load is bounded in count and time and goes to 127.0.0.1 only. Targets on 2 cores: p99 <= 30 ms
at concurrency 8; a 1,000-customer batch in <= 100 ms.

    .venv/bin/python benchmarks/bench_api.py [--requests 400] [--data DATA_DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import tempfile
import time
from pathlib import Path

from _server import free_port, start
import numpy as np

log = logging.getLogger("bench_api")


class _Conn:
    """A minimal HTTP/1.1 keep-alive client on raw asyncio streams: the load generator shares
    the 2 cores with the server, so it must cost as little CPU per request as possible."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = (f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        length, chunked = 0, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
        if chunked:
            data = b""
            while True:
                size = int((await self.reader.readline()).strip(), 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                data += chunk[:-2]
        else:
            data = await self.reader.readexactly(length)
        return int(status_line.split()[1]), data

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def _load(url: str, bodies: list[dict], concurrency: int, max_seconds: float
                ) -> tuple[np.ndarray, float, int]:
    """Send the bodies with ``concurrency`` requests in flight; latencies (ms), rps, errors."""
    import json
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    payloads = [json.dumps(b).encode() for b in bodies]
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + max_seconds
    conns = [_Conn(parts.hostname, parts.port) for _ in range(concurrency)]
    for c in conns:  # warm-up, one request per connection
        await c.post(parts.path, payloads[0])

    async def worker(conn: _Conn):
        nonlocal errors
        while payloads and time.perf_counter() < deadline:
            body = payloads.pop()
            t = time.perf_counter()
            status, _ = await conn.post(parts.path, body)
            latencies.append((time.perf_counter() - t) * 1000)
            errors += status != 200

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in conns))
    wall = time.perf_counter() - t0
    for c in conns:
        c.close()
    return np.array(latencies), len(latencies) / wall, errors


def _row(name: str, lat: np.ndarray, rps: float, errors: int, rows: int = 1) -> str:
    return (f"{name:<44} {len(lat):>6} {np.percentile(lat, 50):>8.1f} "
            f"{np.percentile(lat, 99):>8.1f} {rps:>9.0f} {rps * rows:>10.0f} {errors:>6}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--requests", type=int, default=400, help="requests per concurrency level")
    p.add_argument("--max-seconds", type=float, default=30, help="time cap per level")
    p.add_argument("--data", default=None, help="build the snapshot from this data set first")
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)

    from forecasting.api.backend import Backend
    from forecasting.pipelines.snapshot import build_snapshot
    from forecasting.api import models as M

    if args.data:
        build_snapshot(args.data)
    backend = Backend().state  # the served state: snapshot tables and models
    if backend._churn_model is None or not backend._churn:
        raise SystemExit("no churn champion/snapshot: run 'forecasting demo' (or train, promote "
                         "and 'forecasting serve --data DIR') first")
    ids = sorted(backend._churn)
    rng = np.random.default_rng(0)
    model, _ = backend._churn_model
    from forecasting.features import build_features
    from forecasting.io import read_dataset

    data = read_dataset(backend.meta["data_dir"])
    feats = build_features(data, backend.meta["as_of"]).reset_index()
    feats = feats[[c for c in feats.columns if not c.startswith("attr_")] +
                  [c for c in feats.columns if c.startswith("attr_")]]
    rows = [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
            for r in feats.head(1000).to_dict("records")]
    batch_ids = [ids[i] for i in rng.integers(0, len(ids), 1000)]

    # in-process ceiling, same rows
    one = feats.head(1)
    t = time.perf_counter()
    for _ in range(200):
        model.score(one)
    inproc_one = (time.perf_counter() - t) / 200 * 1000
    t = time.perf_counter()
    model.score(feats.head(1000))
    inproc_batch = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    backend.churn_score(M.ChurnScoreRequest(customer_ids=batch_ids))
    lookup_batch = (time.perf_counter() - t) * 1000

    port = free_port()
    url = f"http://127.0.0.1:{port}/churn/score"
    with tempfile.TemporaryDirectory() as tmp:
        proc = start(port, Path(tmp) / "server.log")
        try:
            lines = []
            for c in (1, 8, 32):
                bodies = [{"customer_ids": [ids[i]]}
                          for i in rng.integers(0, len(ids), args.requests)]
                lat, rps, err = asyncio.run(_load(url, bodies, c, args.max_seconds))
                lines.append((_row(f"1 customer by id, concurrency {c}", lat, rps, err), c, lat))
            bodies = [{"rows": [rows[i]]} for i in rng.integers(0, len(rows), args.requests)]
            lat, rps, err = asyncio.run(_load(url, bodies, 8, args.max_seconds))
            lines.append((_row("1 feature row scored now, concurrency 8", lat, rps, err), 8, lat))
            n = max(10, args.requests // 20)
            lat, rps, err = asyncio.run(_load(url, [{"customer_ids": batch_ids}] * n, 1,
                                              args.max_seconds))
            lines.append((_row("batch of 1,000 ids, concurrency 1", lat, rps, err, 1000), 1, lat))
            batch_lat = lat
            lat, rps, err = asyncio.run(_load(url, [{"rows": rows}] * n, 1, args.max_seconds))
            lines.append((_row("batch of 1,000 feature rows, concurrency 1", lat, rps, err,
                               1000), 1, lat))
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)

    print(f"\nchurn API benchmark: {len(ids):,} scored customers, model "
          f"{backend.meta.get('churn_model_version')}, loopback, 1 API worker\n")
    print(f"{'request':<44} {'n':>6} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>9} {'rows/s':>10} "
          f"{'errors':>6}")
    for text, _, _ in lines:
        print(text)
    print(f"\nin-process, same rows (the ceiling):")
    print(f"  model.score, 1 row (single-threaded LightGBM + reasons): {inproc_one:8.2f} ms")
    print(f"  model.score, 1,000 rows:                                 {inproc_batch:8.1f} ms")
    print(f"  snapshot lookup, 1,000 ids:                              {lookup_batch:8.1f} ms")
    p99_c8 = np.percentile(lines[1][2], 99)
    print(f"\ntargets: p99 at concurrency 8 = {p99_c8:.1f} ms (<= 30: "
          f"{'met' if p99_c8 <= 30 else 'NOT met'}); 1,000-id batch p50 = "
          f"{np.percentile(batch_lat, 50):.1f} ms (<= 100: "
          f"{'met' if np.percentile(batch_lat, 50) <= 100 else 'NOT met'})")


if __name__ == "__main__":
    main()
