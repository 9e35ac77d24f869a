"""train demand -> MLflow run and registered model; promote demand gate."""

from __future__ import annotations

import json

import pandas as pd

from forecasting.cli import main

MODELS = "seasonal_naive,theta,damped"


def test_train_and_promote(panel_df, tmp_path, mlflow_tmp, capsys):
    from forecasting import tracking

    src = tmp_path / "series.parquet"
    panel_df.to_parquet(src)
    report = tmp_path / "report.json"
    assert main(["train", "demand", "--series", str(src), "--freq", "MS", "--horizon", "6",
                 "--models", MODELS, "--report", str(report)]) == 0
    out = capsys.readouterr().out
    assert "seasonal_naive" in out and "chosen" in out
    rep = json.loads(report.read_text())
    for k in ("backtest_smape", "backtest_mase", "backtest_wape", "backtest_bias",
              "backtest_coverage_80", "backtest_coverage_95"):
        assert k in rep
    assert main(["promote", "demand"]) == 0
    assert "promoted" in capsys.readouterr().out
    model, ref = tracking.load_model("demand")
    fc = model.predict(panel_df)
    assert len(fc) == 8 * 6 and (fc["yhat"] >= 0).all()
    # the same data and config again: no worse, so it may be promoted; a worse challenger
    # (seasonal naive only) must be rejected
    assert main(["train", "demand", "--series", str(src), "--freq", "MS", "--horizon", "6",
                 "--models", "mean"]) == 0
    capsys.readouterr()
    assert main(["promote", "demand"]) == 0
    assert "not promoted" in capsys.readouterr().out
    assert tracking.get_version("demand").version == ref.version


def test_latest_forecasts_from_orders():
    import numpy as np

    from forecasting.dataset import Dataset
    from forecasting.demand.pipeline import latest_forecasts

    rng = np.random.default_rng(0)
    days = pd.date_range("2022-01-03", "2024-12-29", freq="D")
    rows = []
    for p in ("a", "b"):
        for d in days[rng.random(len(days)) < 0.5]:
            rows.append({"order_id": f"{p}{d.date()}", "customer_id": "c", "product_id": p,
                         "order_date": d, "quantity": float(rng.integers(1, 5)),
                         "amount": 1.0, "status": "completed"})
    data = Dataset(orders=pd.DataFrame(rows))
    fc = latest_forecasts(data, horizon=4, freq="W")
    assert set(fc["unique_id"]) == {"a", "b"} and len(fc) == 8
    assert fc["ds"].min() >= pd.Timestamp("2024-12-23")  # after the last complete week
