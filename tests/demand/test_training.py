"""train demand -> MLflow run and registered model; promote demand gate."""

from __future__ import annotations

import json
import logging

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


def _train(src, horizon, models=MODELS, windows=2):
    assert main(["train", "demand", "--series", str(src), "--freq", "MS", "--horizon",
                 str(horizon), "--models", models, "--windows", str(windows)]) == 0


def test_gate_refuses_a_challenger_of_another_horizon(panel_df, tmp_path, mlflow_tmp, capsys):
    """A 1-step model's error is smaller by construction: it never replaces a 12-step
    champion, and the gate says the horizons differ."""
    from forecasting import tracking

    src = tmp_path / "series.parquet"
    panel_df.to_parquet(src)
    _train(src, 12)
    assert main(["promote", "demand"]) == 0
    champion = tracking.get_version("demand").version
    _train(src, 1)
    capsys.readouterr()
    assert main(["promote", "demand"]) == 0
    out = capsys.readouterr().out
    assert "not promoted" in out and "horizon (champion 12, challenger 1)" in out
    assert tracking.get_version("demand").version == champion


def test_gate_reruns_the_champion_on_the_challengers_data(panel_df, tmp_path, mlflow_tmp,
                                                          capsys):
    """Different data: the champion's method is re-run on the challenger's data and the two
    are compared there (the same method on the same data is no worse: promoted)."""
    src, other = tmp_path / "a.parquet", tmp_path / "b.parquet"
    panel_df.to_parquet(src)
    panel_df[panel_df.unique_id.isin(["s0", "s1", "s2", "s3"])].to_parquet(other)
    _train(src, 6)
    assert main(["promote", "demand"]) == 0
    _train(other, 6)
    capsys.readouterr()
    assert main(["promote", "demand"]) == 0
    out = capsys.readouterr().out
    assert "re-run on the challenger's data" in out and " promoted" in out


def test_a_missing_metric_never_passes():
    from datetime import datetime, timezone

    from forecasting.demand.training import decide
    from forecasting.tracking import ModelRef

    params = {"horizon": "6", "freq": "MS", "levels": "[80, 95]", "n_windows": "2",
              "data_fingerprint": "x"}
    good = {"backtest_smape": 10.0, "backtest_mase": 0.8, "backtest_coverage_80": 80.0,
            "backtest_coverage_95": 95.0}
    now = datetime.now(timezone.utc)
    champion = ModelRef("demand", "1", "r1", now, metrics=good, params=params)
    better = {**good, "backtest_smape": 9.0}
    ok, _ = decide(champion, ModelRef("demand", "2", "r2", now, metrics=better,
                                      params=params))
    assert ok
    no_coverage = {k: v for k, v in better.items() if k != "backtest_coverage_95"}
    ok, reason = decide(champion, ModelRef("demand", "3", "r3", now, metrics=no_coverage,
                                           params=params))
    assert not ok and "backtest_coverage_95" in reason and "never passes" in reason
    ok, reason = decide(champion, ModelRef("demand", "4", "r4", now, metrics=better,
                                           params={**params, "freq": "W"}))
    assert not ok and "freq (champion MS, challenger W)" in reason


def test_model_logged_with_a_signature_and_an_example_that_pass(panel_df, mlflow_tmp, capfd,
                                                                caplog):
    """MLflow infers the signature from the input example and checks the serving example by
    running the model on it: both pass, with nothing failed or warned on the way."""
    import mlflow
    import numpy as np

    from forecasting import tracking
    from forecasting.demand.pipeline import DemandConfig
    from forecasting.demand.training import _plots, train

    result, _, run_id = train(panel_df, DemandConfig(horizon=6, freq="MS",
                                                     candidates=("seasonal_naive", "theta")))
    out = capfd.readouterr()
    text = out.out + out.err + caplog.text
    assert "Failed to infer" not in text and "Failed to validate" not in text, text
    assert "less than two seasons" not in text  # the example is not a short series
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and (
        r.name.startswith("forecasting") or "signature" in r.getMessage()
        or "example" in r.getMessage())]
    ref = tracking.version_of_run("demand", run_id)
    info = mlflow.models.get_model_info(ref.uri)
    assert info.signature is not None and info.signature.inputs is not None
    assert {"unique_id", "ds", "y"} <= set(info.signature.inputs.input_names())
    assert info.saved_input_example_info is not None
    # the forecast-vs-actual plot has dates on its axis and the 80 and 95 % bands
    ax = _plots(result)["plots/forecast_vs_actual.png"].axes[0]
    assert np.issubdtype(np.asarray(ax.lines[0].get_xdata()).dtype, np.datetime64)
    labels = [c.get_label() for c in ax.collections]
    assert "80 % interval" in labels and "95 % interval" in labels
