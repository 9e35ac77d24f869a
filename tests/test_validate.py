"""Each rule of the data contract fails with its own message; every problem is reported at once."""

from __future__ import annotations

import pandas as pd
import pytest

from forecasting.errors import DataError
from forecasting.io import read_dataset, write_table
from forecasting.validate import validate_tables

NOW = pd.Timestamp("2024-12-31")


def orders(**changes) -> pd.DataFrame:
    base = {
        "order_id": ["o1", "o2", "o3"],
        "customer_id": ["c1", "c2", "c1"],
        "product_id": ["p1", "p1", "p2"],
        "order_date": ["2024-01-01", "2024-01-02", "2024-01-03"],
        "quantity": ["1", "2", "3"],
        "amount": ["10", "20", "30"],
    }
    base.update(changes)
    return pd.DataFrame(base)


def rules(raw: dict) -> set[tuple[str, str | None, str]]:
    report = validate_tables(raw, now=NOW)
    return {(p.table, p.column, p.rule) for p in report.problems}


def test_clean_data_passes_and_builds_a_dataset():
    report = validate_tables({"orders": orders()}, now=NOW)
    assert report.ok and report.dataset is not None
    o = report.dataset.orders
    assert o["order_date"].dtype.kind == "M" and o["amount"].dtype == float
    assert (o["status"] == "completed").all()  # empty status means completed


@pytest.mark.parametrize("raw, expected", [
    ({"orders": orders().drop(columns="amount")}, ("orders", "amount", "missing column")),
    ({"orders": orders(order_date=["2024-01-01", "2023-13-45", "2024-01-03"])},
     ("orders", "order_date", "unparseable date")),
    ({"orders": orders(quantity=["1", "two", "3"])}, ("orders", "quantity", "wrong type")),
    ({"orders": orders(amount=["1", "inf", "3"])}, ("orders", "amount", "wrong type")),
    ({"orders": orders(customer_id=["c1", "c2", "c1"], product_id=[None, "p1", "p2"])},
     ("orders", "product_id", "missing value")),
    ({"orders": orders(order_id=["o1", "o1", "o3"], product_id=["p1", "p1", "p2"],
                       customer_id=["c1", "c1", "c1"], order_date=["2024-01-01"] * 3)},
     ("orders", "order_id+product_id", "duplicate key")),
    ({"orders": orders(quantity=["1", "-2", "3"])}, ("orders", "quantity", "negative quantity")),
    ({"orders": orders(status=["completed", "lost", None])}, ("orders", "status", "unknown value")),
    ({"orders": orders(order_id=["o1", "o1", "o3"])}, ("orders", "order_id", "inconsistent order")),
    ({"orders": orders(delivered_date=["2023-12-30", None, None])},
     ("orders", "delivered_date", "delivered before ordered")),
    ({"orders": orders(order_date=["2024-01-01", "2025-06-01", "2024-01-03"])},
     ("orders", "order_date", "future date")),
    ({"orders": orders(), "customers": pd.DataFrame({"customer_id": ["c1"]})},
     ("orders", "customer_id", "orphan customer id")),
    ({"orders": orders(), "surveys": pd.DataFrame({"customer_id": ["c1"], "csat": ["6"],
                                                   "surveyed_at": ["2024-02-01"]})},
     ("surveys", "csat", "out of range")),
    ({"orders": orders(), "surveys": pd.DataFrame({"customer_id": ["c1"], "csat": ["4"],
                                                   "nps": ["11"], "surveyed_at": ["2024-02-01"]})},
     ("surveys", "nps", "out of range")),
    ({"orders": orders(), "complaints": pd.DataFrame({
        "complaint_id": ["k1"], "customer_id": ["c1"], "opened_at": ["2024-02-02"],
        "category": ["quality"], "resolved_at": ["2024-02-01"]})},
     ("complaints", "resolved_at", "resolved before opened")),
    ({"orders": orders(), "inventory": pd.DataFrame({"product_id": ["p1"], "on_hand": ["-1"]})},
     ("inventory", "on_hand", "out of range")),
    ({"orders": orders().iloc[:0]}, ("orders", None, "missing table")),
])
def test_each_rule_fails_with_its_message(raw, expected):
    found = rules(raw)
    assert expected in found, found
    problem = next(p for p in validate_tables(raw, now=NOW).problems
                   if (p.table, p.column, p.rule) == expected)
    assert problem.fix and problem.message
    assert len(problem.rows) <= 5


def test_every_problem_is_reported_at_once_with_rows():
    raw = {"orders": orders(order_date=["2023-13-45", "2024-02-30", "x"]).drop(columns="amount")}
    report = validate_tables(raw, now=NOW)
    assert {(p.column, p.rule) for p in report.problems} == {
        ("amount", "missing column"), ("order_date", "unparseable date")}
    bad_dates = next(p for p in report.problems if p.rule == "unparseable date")
    assert bad_dates.count == 3
    assert [r["order_date"] for r in bad_dates.rows] == ["2023-13-45", "2024-02-30", "x"]
    assert bad_dates.rows[0]["row"] == 1  # 1-based data row number
    with pytest.raises(DataError) as err:
        report.raise_if_failed()
    assert "2023-13-45" in str(err.value) and "amount" in str(err.value)


def test_unknown_complaint_category_is_repaired_and_counted():
    complaints = pd.DataFrame({"complaint_id": ["k1", "k2", "k3"], "customer_id": ["c1"] * 3,
                               "opened_at": ["2024-02-01"] * 3,
                               "category": ["Quality ", "billing", "misc"]})
    report = validate_tables({"orders": orders(), "complaints": complaints}, now=NOW)
    assert report.ok
    assert report.dataset.complaints["category"].tolist() == ["quality", "other", "other"]
    assert report.repairs == {"complaints.category: unknown value -> other": 2}


def test_returned_lines_may_be_negative():
    raw = {"orders": orders(quantity=["1", "-2", "3"], amount=["10", "-20", "30"],
                            status=["completed", "returned", "completed"])}
    assert validate_tables(raw, now=NOW).ok


def test_ids_keep_their_spelling_from_csv_and_parquet(tmp_path):
    o = orders(customer_id=["007", "12346", "007"])
    write_table(o, tmp_path / "csv" / "orders.csv")
    assert read_dataset(tmp_path / "csv", now=NOW).orders["customer_id"].tolist() == [
        "007", "12346", "007"]
    numeric = o.assign(customer_id=[7.0, 12346.0, None])  # floats as pandas stores nullable ints
    write_table(numeric, tmp_path / "pq" / "orders.parquet")
    assert read_dataset(tmp_path / "pq", now=NOW).orders["customer_id"].tolist()[:2] == [
        "7", "12346"]


def test_input_frames_are_not_modified():
    raw = {"orders": orders(status=[None, "completed", "completed"])}
    before = raw["orders"].copy()
    validate_tables(raw, now=NOW)
    pd.testing.assert_frame_equal(raw["orders"], before)


def test_an_anonymous_line_does_not_make_an_order_inconsistent():
    """Like nunique: empty customer ids and dates are not a second value within an order."""
    raw = {"orders": orders(order_id=["o1", "o1", "o2"], customer_id=["c1", None, "c2"],
                            product_id=["p1", "p2", "p1"])}
    raw["orders"]["order_date"] = ["2024-01-01", "2024-01-01", "2024-01-03"]
    assert "inconsistent order" not in {p.rule for p in validate_tables(raw, now=NOW).problems}
    raw["orders"]["order_date"] = ["2024-01-01", "2024-01-02", "2024-01-03"]
    bad = next(p for p in validate_tables(raw, now=NOW).problems
               if p.rule == "inconsistent order")
    assert bad.count == 2 and [r["row"] for r in bad.rows] == [1, 2]
