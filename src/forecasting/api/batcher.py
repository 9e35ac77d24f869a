"""Adaptive batching of feature-row scoring across concurrent API requests."""

from __future__ import annotations

import asyncio
import collections


class RowBatcher:
    """Adaptive batching of feature-row scoring across concurrent requests.

    While one model call runs (in a thread), requests that arrive queue up; the next call takes
    all of them at once (up to ``max_rows``). Under light load a request is scored alone at
    once (no added wait); under load, batches grow with the queue. Only requests with the same
    columns share a call, so a request missing a feature still gets its own error; when a
    shared call fails, each request is retried alone so one bad request fails only itself.
    """

    def __init__(self, score_batches, max_rows: int = 2000):
        self.score_batches = score_batches
        self.max_rows = max_rows
        self._pending: collections.deque = collections.deque()
        self._worker = None

    async def submit(self, rows: list[dict]) -> list[dict]:

        fut = asyncio.get_running_loop().create_future()
        self._pending.append((rows, fut))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain())
        return await fut

    async def _drain(self) -> None:

        while self._pending:
            taken, n = [], 0
            while self._pending and (not taken or n + len(self._pending[0][0]) <= self.max_rows):
                taken.append(self._pending.popleft())
                n += len(taken[-1][0])
            groups: dict[tuple, list] = {}
            for rows, fut in taken:
                key = tuple(sorted({k for r in rows for k in r}))
                groups.setdefault(key, []).append((rows, fut))
            for items in groups.values():
                await self._score(items)

    async def _score(self, items: list) -> None:

        try:
            results = await asyncio.to_thread(self.score_batches, [rows for rows, _ in items])
        except Exception as exc:  # noqa: BLE001 - handed to the waiting requests
            if len(items) == 1:
                items[0][1].set_exception(exc)
                return
            for one in items:  # one bad request must not fail the others
                await self._score([one])
            return
        for (_, fut), res in zip(items, results):
            if not fut.done():
                fut.set_result(res)
