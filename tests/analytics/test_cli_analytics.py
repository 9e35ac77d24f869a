"""The analytics commands end to end on hand-built data folders (the issue's "Done means")."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from forecasting.cli import main
from forecasting.io import write_table


@pytest.fixture
def january_dir(tmp_path, january):
    folder = tmp_path / "data"
    for name, df in january.items():
        write_table(df, folder / f"{name}.csv")
    return folder


def test_kpis_reports_fulfilment_75_nps_25_csat_4(january_dir, tmp_path, capsys):
    # the hand-built month: 3 of 4 orders on time, NPS 10, 9, 8, 3 and CSAT 5, 4, 4, 3
    out = tmp_path / "f.json"
    assert main(["kpis", str(january_dir), "--out", str(out)]) == 0
    rows = json.loads(out.read_text())
    overall = {r["kpi"]: r for r in rows
               if r["level"] == "overall" and r["period"] == "2024-01"}
    assert overall["order_fulfilment_rate_pct"]["value"] == pytest.approx(75.0)
    assert overall["nps"]["value"] == pytest.approx(25.0)
    assert overall["csat_mean"]["value"] == pytest.approx(4.0)
    # undefined KPIs are null with a reason, never 0
    assert overall["retention_rate_pct"]["value"] is None
    assert "no customers at period start" in overall["retention_rate_pct"]["note"]
    assert "order_fulfilment_rate_pct" in capsys.readouterr().out


def test_kpis_csv_and_plots(january_dir, tmp_path):
    out, plots = tmp_path / "k.csv", tmp_path / "plots"
    assert main(["kpis", str(january_dir), "--out", str(out), "--levels", "overall",
                 "--plots", str(plots)]) == 0
    table = pd.read_csv(out)
    assert set(table["level"]) == {"overall"}
    assert (plots / "kpi_trends.png").stat().st_size > 1000


def test_segments_and_followup_commands(january_dir, tmp_path):
    seg_out, fol_out, plots = tmp_path / "s.csv", tmp_path / "f.csv", tmp_path / "p"
    assert main(["segments", str(january_dir), "--as-of", "2024-01-31", "--out", str(seg_out),
                 "--plots", str(plots)]) == 0
    seg = pd.read_csv(seg_out, dtype={"customer_id": str})
    assert set(seg["customer_id"]) == {"a", "b", "c"}
    assert seg["segment"].notna().all() and (seg["churn_source"] == "rfm rules").all()
    # (--no-model: the registry lookup above already proved the fallback; saves seconds)
    assert main(["followup", str(january_dir), "--as-of", "2024-01-31", "--out", str(fol_out),
                 "--plots", str(plots), "--no-model"]) == 0
    fol = pd.read_csv(fol_out, dtype={"customer_id": str})
    assert fol["rank"].tolist() == list(range(1, len(fol) + 1))
    assert fol["value_at_risk_12m"].is_monotonic_decreasing
    for name in ("segments.png", "followup.png"):
        assert (plots / name).exists()


def test_bad_input_exits_1_without_traceback(tmp_path, january_dir, capsys):
    assert main(["kpis", str(tmp_path / "missing"), "--out", str(tmp_path / "x.json")]) == 1
    assert main(["kpis", str(january_dir), "--out", str(tmp_path / "x.json"),
                 "--levels", "galaxy"]) == 1
    # a date that is not one is a usage error, found when the command line is read
    with pytest.raises(SystemExit) as exit_:
        main(["segments", str(january_dir), "--as-of", "soon", "--out", str(tmp_path / "x.csv")])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "argument --as-of: as-of 'soon' is not a date" in err
    assert "Traceback" not in err


def test_help_explains_each_command(capsys):
    for cmd in ("segments", "kpis", "followup"):
        with pytest.raises(SystemExit):
            main([cmd, "--help"])
        assert "--out" in capsys.readouterr().out
