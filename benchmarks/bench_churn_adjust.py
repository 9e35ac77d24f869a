"""Does churn-adjusted demand lower the error of the next quarter's demand?

For each data set: cut every table at a cutoff 13 whole weeks before the end of the data (the
churn model and the demand forecast see nothing after it), train a churn model on the cut data
(the time-based churn pipeline, as ``forecasting train churn`` does), forecast weekly demand
13 weeks ahead, adjust it (:mod:`forecasting.demand.churn_adjust`) and score both against the
actual weekly demand of those 13 weeks: WAPE and bias, all products and the 20 % largest.

    nice -n 10 .venv/bin/python benchmarks/bench_churn_adjust.py sample retail
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.dataset import Dataset
from forecasting.demand import metrics
from forecasting.demand.churn_adjust import ADJUSTED, churn_adjust
from forecasting.demand.pipeline import forecast
from forecasting.demand.series import orders_to_series
from forecasting.schema import DS, UNIQUE_ID, Y

H = 13  # weeks: the next quarter

# the date columns of each table: rows after the cutoff go, later event dates are blanked
_DATES = {"orders": ("order_date", ("promised_date", "delivered_date")),
          "complaints": ("opened_at", ("resolved_at",)),
          "surveys": ("surveyed_at", ()),
          "customers": ("created_at", ())}


def cut(data: Dataset, cutoff: pd.Timestamp) -> Dataset:
    """The data set as it was known at the end of ``cutoff``'s day."""
    end = cutoff.normalize() + pd.Timedelta(days=1)
    tables = {}
    for name, df in data.tables().items():
        if name in _DATES and df is not None:
            key, later = _DATES[name]
            if key in df:
                df = df[df[key].isna() | (df[key] < end)].copy() if name == "customers" \
                    else df[df[key] < end].copy()
            for col in later:
                if col in df:
                    df.loc[df[col] >= end, col] = pd.NaT
        tables[name] = df
    return Dataset(**tables)


def measure(name: str, data: Dataset) -> list[dict]:
    from forecasting.churn.config import ChurnConfig
    from forecasting.churn.pipeline import train_time_based

    weekly = orders_to_series(data.orders, freq="W")
    weeks = np.sort(weekly[DS].unique())
    first_test = pd.Timestamp(weeks[-H])
    cutoff = first_test - pd.Timedelta(days=1)          # the Sunday before the test weeks
    past = cut(data, cutoff)
    churn = train_time_based(past, ChurnConfig()).model
    history = orders_to_series(past.orders, freq="W", products=past.products)
    fc = forecast(history, horizon=H, freq="W", progress=False).table
    fc = churn_adjust(fc, past, churn, cutoff, "W")
    actual = weekly[weekly[DS] >= first_test]
    both = fc.merge(actual, on=[UNIQUE_ID, DS], how="left").fillna({Y: 0.0})
    both = both[both[DS] < first_test + pd.Timedelta(weeks=H)]
    vol = both.groupby(UNIQUE_ID)[Y].sum()
    big = vol[vol >= vol.quantile(0.8)].index
    rows = []
    for subset, mask in (("all products", np.ones(len(both), bool)),
                         ("top 20 % by volume", both[UNIQUE_ID].isin(big).to_numpy())):
        y = both.loc[mask, Y].to_numpy()
        for label, col in (("forecast", "yhat"), ("churn-adjusted", ADJUSTED)):
            f = both.loc[mask, col].to_numpy()
            rows.append({"data": f"{name} ({both[UNIQUE_ID].nunique()} products, cutoff "
                                 f"{cutoff.date()})", "products": subset, "model": label,
                         "wape": metrics.wape(y, f), "bias": metrics.bias(y, f),
                         "volume": float(f.sum()), "actual": float(y.sum())})
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("which", nargs="*", default=["sample", "retail"])
    args = ap.parse_args(argv)
    rows = []
    for w in args.which:
        if w == "sample":
            from forecasting.sample import generate

            rows += measure("sample data (2,000 customers, seed 0)", generate())
        else:
            from forecasting.importers.online_retail import convert

            here = Path(__file__).resolve().parents[1]
            path = next(p for p in (here / "../shared/data", Path("/work/shared/data"))
                        if p.exists()) / "online_retail" / "online_retail.parquet"
            data, _ = convert(pd.read_parquet(path))
            rows += measure("Online Retail", data)
    pd.set_option("display.width", 200)
    print(pd.DataFrame(rows).round(3).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
