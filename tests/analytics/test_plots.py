"""Figures are written as PNG files and logged to MLflow inside a run; empty inputs draw."""

from __future__ import annotations

import pandas as pd

from forecasting.analytics import plots as ap
from forecasting.dataset import Dataset
from forecasting.analytics.followup import followup_list
from forecasting.analytics.kpis import KpiConfig, kpi_table
from forecasting.analytics.segments import segments


def test_figures_as_png_and_in_an_mlflow_run(january_data, tmp_path):
    seg = segments(january_data, "2024-01-31")
    table = kpi_table(january_data, KpiConfig(levels=("overall",)))
    fol = followup_list(january_data, "2024-01-31", seg=seg)
    figs = {"segments": ap.segments_figure(seg), "kpi_trends": ap.kpi_trends_figure(table),
            "followup": ap.followup_figure(fol)}
    paths = ap.save_figures(figs, tmp_path / "plots")
    assert [p.name for p in paths] == ["segments.png", "kpi_trends.png", "followup.png"]
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in paths)

    from forecasting import tracking

    with tracking.run("analytics-test") as run_id:
        ap.log_figures({"segments": ap.segments_figure(seg)})
    art = tracking.download_artifact(run_id, "plots/segments.png", tmp_path / "dl")
    assert art.exists()


def test_empty_tables_still_draw(tmp_path):
    empty_seg = pd.DataFrame({"customer_id": [], "segment": [], "revenue_365d": []})
    empty_fol = pd.DataFrame(columns=["customer_id", "segment", "value_at_risk_12m",
                                      "suggested_action"])
    empty_kpis = pd.DataFrame(columns=["period", "level", "group", "kpi", "value"])
    figs = {"s": ap.segments_figure(empty_seg), "f": ap.followup_figure(empty_fol),
            "k": ap.kpi_trends_figure(empty_kpis)}
    assert len(ap.save_figures(figs, tmp_path)) == 3


def test_orders_only_dataset_draws_kpi_trends(january, tmp_path):
    data = Dataset(january["orders"])  # no surveys, no complaints: those KPIs are all empty
    table = kpi_table(data, KpiConfig(levels=("overall",)))
    (path,) = ap.save_figures({"k": ap.kpi_trends_figure(table)}, tmp_path)
    assert path.stat().st_size > 1000
