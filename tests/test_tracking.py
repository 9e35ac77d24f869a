"""The MLflow edge: runs, registration, aliases and the promotion gate, on a real local store."""

from __future__ import annotations

import pandas as pd
import pytest

from forecasting import tracking
from forecasting.errors import ForecastingError


class ConstantModel:
    """A tiny picklable model: predict returns a probability column."""

    def __init__(self, p: float):
        self.p = p

    def predict(self, df: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"churn_probability": [self.p] * len(df)})


@pytest.fixture
def mlflow_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    return tmp_path


def _train(p: float, fail: bool = False) -> str:
    X = pd.DataFrame({"x": [1.0, 2.0]})
    with tracking.run("unit", run_name=f"p={p}") as run_id:
        tracking.log_params({"config": {"p": p}})
        tracking.log_metrics({"holdout_score": p, "nan_metric": float("nan")})
        tracking.log_model(ConstantModel(p), "unit", input_example=X)
        if fail:
            raise RuntimeError("boom after logging the model")
    return run_id


def test_successful_run_gets_challenger_and_artifacts_stay_in_tmp(mlflow_tmp):
    run_id = _train(0.3)
    ref = tracking.get_version("unit", tracking.CHALLENGER)
    assert ref is not None and ref.run_id == run_id
    assert ref.metrics["holdout_score"] == 0.3
    assert "nan_metric" not in ref.metrics
    assert ref.params["config.p"] == "0.3"
    assert (mlflow_tmp / "artifacts" / "unit").is_dir()
    model, loaded = tracking.load_model("unit", tracking.CHALLENGER)
    assert isinstance(model, ConstantModel) and loaded.version == ref.version
    out = model.predict(pd.DataFrame({"x": [5.0]}))
    assert out["churn_probability"].tolist() == [0.3]


def test_failed_run_never_moves_an_alias(mlflow_tmp):
    _train(0.3)
    tracking.promote("unit", lambda champ, chall: (True, "ok"))
    champion = tracking.get_version("unit", tracking.CHAMPION)
    with pytest.raises(RuntimeError):
        _train(0.9, fail=True)
    assert tracking.get_version("unit", tracking.CHALLENGER).version == champion.version
    assert tracking.get_version("unit", tracking.CHAMPION).version == champion.version


def test_promotion_gate(mlflow_tmp):
    def decide(champ, chall):
        better = chall.metrics["holdout_score"] >= champ.metrics["holdout_score"]
        return better, "higher score" if better else "lower score"

    _train(0.5)
    first = tracking.promote("unit", decide)
    assert first.promoted and "first model" in first.reason
    _train(0.4)  # worse challenger: the champion stays
    second = tracking.promote("unit", decide)
    assert not second.promoted and second.reason == "lower score"
    assert tracking.get_version("unit", tracking.CHAMPION).metrics["holdout_score"] == 0.5
    run_id = _train(0.6)
    third = tracking.promote("unit", decide, run_id=run_id)
    assert third.promoted
    assert tracking.get_version("unit", tracking.CHAMPION).run_id == run_id


def test_missing_champion_is_a_clear_error(mlflow_tmp):
    with pytest.raises(ForecastingError, match="no 'champion' version of model 'nothing'"):
        tracking.load_model("nothing")
    with pytest.raises(ForecastingError, match="train one first"):
        tracking.promote("nothing", lambda a, b: (True, ""))


def test_a_model_saved_by_an_older_release_says_to_retrain(mlflow_tmp, monkeypatch):
    """A registered model whose pickled class no longer exists (a module moved or removed)
    fails to load with a message that says to retrain, not an unpickling traceback."""
    import sys
    import types

    old = types.ModuleType("forecasting_release_0")  # stands for a module of an old release

    class OldModel(ConstantModel):
        pass

    OldModel.__module__ = old.__name__
    OldModel.__qualname__ = "OldModel"
    old.OldModel = OldModel
    monkeypatch.setitem(sys.modules, old.__name__, old)
    with tracking.run("unit", run_name="old"):
        tracking.log_model(OldModel(0.5), "unit", input_example=pd.DataFrame({"x": [1.0]}))
    monkeypatch.delitem(sys.modules, old.__name__)  # the new release has no such module
    with pytest.raises(ForecastingError, match="older release.*retrain it with 'forecasting "
                                               "train unit"):
        tracking.load_model("unit", tracking.CHALLENGER)
