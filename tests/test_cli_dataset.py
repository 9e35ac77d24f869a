"""The validate and features commands, run as a user runs them (a subprocess)."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd

from forecasting.io import read_table


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "forecasting", *args],
                          capture_output=True, text=True, timeout=120)


def test_validate_names_every_problem_and_shows_no_traceback(tmp_path):
    """Done means: orders missing `amount` and holding the date 2023-13-45 -> exit 1, both named."""
    pd.DataFrame({"order_id": ["1", "2"], "customer_id": ["a", "b"], "product_id": ["p", "p"],
                  "order_date": ["2023-01-01", "2023-13-45"], "quantity": ["1", "2"]}
                 ).to_csv(tmp_path / "orders.csv", index=False)
    r = cli("validate", str(tmp_path))
    assert r.returncode == 1
    out = r.stdout + r.stderr
    assert "amount" in out and "missing column" in out
    assert "2023-13-45" in out and "unparseable date" in out
    assert "Traceback" not in out


def test_validate_a_missing_folder_is_a_clear_error(tmp_path):
    r = cli("validate", str(tmp_path / "nope"))
    assert r.returncode == 1 and "not a folder" in r.stderr and "Traceback" not in r.stderr


def test_sample_validate_features_end_to_end(tmp_path):
    data, out = tmp_path / "data", tmp_path / "features.parquet"
    assert cli("sample", str(data), "--customers", "200", "--products", "10").returncode == 0
    r = cli("validate", str(data))
    assert r.returncode == 0, r.stderr
    assert "orders" in r.stdout and "valid" in r.stdout
    r = cli("features", str(data), "--as-of", "2024-06-30", "--out", str(out))
    assert r.returncode == 0, r.stderr
    f = read_table(out)
    assert f["customer_id"].is_unique and len(f) > 100
    assert {"days_since_last_order", "complaints_open", "csat_last"} <= set(f.columns)


def test_features_with_a_bad_date_is_a_clear_error(tmp_path):
    assert cli("sample", str(tmp_path), "--customers", "50", "--products", "5").returncode == 0
    r = cli("features", str(tmp_path), "--as-of", "2024-02-31", "--out", str(tmp_path / "f.csv"))
    # found when the command line is read: a usage error (exit 2) naming the option
    assert r.returncode == 2 and "argument --as-of" in r.stderr and "not a date" in r.stderr
    assert "Traceback" not in r.stderr
