"""Adaptive batching of feature-row scoring: concurrent requests share a model call, answers
go back to the right request, and one bad request fails only itself."""

from __future__ import annotations

import asyncio
import concurrent.futures

import pytest

from forecasting.errors import ForecastingError
from forecasting.api.batcher import RowBatcher


def run(coro):
    """asyncio.run in a thread of its own: the browser tests' session-wide Playwright keeps an
    event loop running in the main thread, where asyncio.run refuses to start another."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


class FakeModel:
    def __init__(self):
        self.calls: list[int] = []

    def score_batches(self, batches):
        rows = [r for b in batches for r in b]
        if any("bad" in r for r in rows):
            raise ForecastingError("rows miss feature x")
        self.calls.append(len(batches))
        return [[{"id": r["id"], "p": r["x"] / 10} for r in b] for b in batches]


def test_concurrent_requests_share_calls_and_get_their_own_answers():
    model = FakeModel()

    async def main():
        batcher = RowBatcher(model.score_batches)
        reqs = [[{"id": i, "x": i}] for i in range(20)]
        return await asyncio.gather(*(batcher.submit(r) for r in reqs))

    answers = run(main())
    assert [a[0]["id"] for a in answers] == list(range(20))
    assert [a[0]["p"] for a in answers] == [i / 10 for i in range(20)]
    assert sum(model.calls) == 20 and len(model.calls) < 20  # batched: fewer calls than requests


def test_a_bad_request_fails_alone_and_other_columns_are_not_mixed():
    model = FakeModel()

    async def main():
        batcher = RowBatcher(model.score_batches)
        good = batcher.submit([{"id": 1, "x": 1}])
        bad = batcher.submit([{"id": 2, "x": 2, "bad": 1}])
        good2 = batcher.submit([{"id": 3, "x": 3}])
        return await asyncio.gather(good, bad, good2, return_exceptions=True)

    good, bad, good2 = run(main())
    assert good[0]["p"] == 0.1 and good2[0]["p"] == 0.3
    assert isinstance(bad, ForecastingError)


def test_max_rows_caps_a_batch():
    model = FakeModel()

    async def main():
        batcher = RowBatcher(model.score_batches, max_rows=3)
        return await asyncio.gather(*(batcher.submit([{"id": i, "x": i}] * 2) for i in range(4)))

    run(main())
    assert max(model.calls) == 1  # two rows per request, at most three rows per call
