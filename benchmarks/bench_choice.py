"""Does the demand model choice flip with the number of backtest windows? Backtests only.

The benchmark's training history (its test period held out exactly as ``bench_demand.py``
does) is backtested once with ``--max-windows`` windows (default 4); the choice rule
(:func:`forecasting.demand.select.choose`, what ``forecasting forecast`` runs for the full-
history series) is then applied to the last 2, 3, ... windows. The test period is never
read. Prints the choice per window count and the per-window sMAPE of the best options.

    nice -n 10 .venv/bin/python benchmarks/bench_choice.py store m3
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from itertools import combinations

import numpy as np
import pandas as pd

from bench_demand import data_dir
from forecasting.demand import pipeline
from forecasting.demand.backtest import Backtest, backtest
from forecasting.demand.select import INTERMITTENT, _score, choose
from forecasting.importers import series_sets

log = logging.getLogger("bench_choice")

SETS = {"store": (lambda: series_sets.store_item(data_dir() / "store_item_demand"), 90, "D"),
        "m3": (lambda: series_sets.m3(data_dir() / "m3", "MONTHLY"), 18, "MS")}


def last(bt: Backtest, W: int) -> Backtest:
    """The backtest's last ``W`` windows: what a ``W``-window backtest computes."""
    s = slice(-W, None)
    return Backtest(bt.h, bt.actual[s], {k: v[s] for k, v in bt.forecasts.items()},
                    bt.scale[s], bt.noise[s], bt.intermittent[s], bt.level[s], bt.origins[s],
                    bt.history[s])


def run(name: str, max_windows: int) -> list[dict]:
    load, h, freq = SETS[name]
    train, _ = load()          # the test period is not used
    panel = pipeline.prepare(train, freq)
    cfg = pipeline.DemandConfig(horizon=h, freq=panel.freq, n_windows=max_windows)
    names = [n for n in pipeline._candidates(cfg, panel) if n != pipeline.COLD_START]
    t = time.time()
    bt = backtest(panel, {n: pipeline._factory(n, cfg, h) for n in names}, h,
                  n_windows=max_windows)
    log.info("%s: %d-window backtest of %s in %.0f s", name, max_windows, names,
             time.time() - t)
    full = (bt.history == "full") & np.isfinite(bt.actual).all(axis=-1)
    rows = []
    for W in range(2, max_windows + 1):
        cells = full[-W:]
        sub = last(bt, W).masked(cells)
        ch = choose(sub, names=names)
        regular = ~sub.intermittent & cells
        cont = [m for m in names if m not in INTERMITTENT]
        ranked = sorted(cont, key=lambda m: _score(sub, sub.forecasts[m], regular, "smape"))
        options = {(m,): sub.forecasts[m] for m in ranked[:3]}
        options.update({c: np.mean([sub.forecasts[m] for m in c], axis=0)
                        for c in combinations(ranked[:3], 2)})
        by_window = {"+".join(k): " / ".join(
            f"{_score(sub, f, regular & (np.arange(W)[:, None] == w), 'smape'):.3f}"
            for w in range(W)) for k, f in options.items()}
        rows.append({"data": name, "windows": W, "chosen": "+".join(sorted(ch.ensemble)),
                     "backtest smape": round(ch.scores["chosen"], 3),
                     "top options, smape per window (oldest first)": "; ".join(
                         f"{k}: {v}" for k, v in by_window.items())})
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("which", nargs="*", default=list(SETS), choices=list(SETS))
    ap.add_argument("--max-windows", type=int, default=4)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    rows = [r for w in args.which for r in run(w, args.max_windows)]
    table = pd.DataFrame(rows)
    pd.set_option("display.width", 250, "display.max_colwidth", 200)
    print(table.to_string(index=False))
    stable = table.groupby("data")["chosen"].nunique()
    print("\nsame choice with every window count: "
          + ", ".join(f"{d}: {'yes' if n == 1 else 'NO'}" for d, n in stable.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
