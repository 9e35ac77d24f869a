"""Online Retail -> data contract: hand-built invoices with every rule, and the real file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting import schema as s
from forecasting.errors import ForecastingError
from forecasting.importers.online_retail import (
    REASON_NEGATIVE_PRICE, REASON_NEGATIVE_QTY, REASON_ZERO_PRICE, REPAIR_DATES, convert)
from forecasting.validate import validate_dataset

COLUMNS = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice",
           "CustomerID", "Country"]
ROWS = [
    # a normal invoice of customer 17850, two lines
    ("536365", "85123A", "WHITE HANGING HEART", 6, "2010-12-01 08:26", 2.55, 17850.0, "United Kingdom"),
    ("536365", "71053", "WHITE METAL LANTERN", 6, "2010-12-01 08:26", 3.39, 17850.0, "United Kingdom"),
    # a cancellation of the same customer -> returned, negative quantity and amount
    ("C536379", "85123A", "WHITE HANGING HEART", -2, "2010-12-02 09:41", 2.55, 17850.0, "United Kingdom"),
    # no customer id: kept in orders (product demand), not in customers, counted
    ("536544", "21773", "DECORATIVE ROSE BATHROOM", 1, "2010-12-01 14:32", 2.51, np.nan, "United Kingdom"),
    # stock write-off: negative quantity, not a cancellation -> set aside
    ("536589", "21777", "damaged", -10, "2010-12-01 16:50", 0.0, np.nan, "United Kingdom"),
    # zero price with a customer (free sample) -> set aside
    ("536600", "22139", "check", 4, "2010-12-02 10:00", 0.0, 12347.0, "Iceland"),
    # bad-debt adjustment: negative price -> set aside
    ("A563186", "B", "Adjust bad debt", 1, "2011-08-12 14:51", -11062.06, np.nan, "United Kingdom"),
    # an invoice whose second line is stamped a minute later: one order date (repair, counted)
    ("536700", "22139", "RETROSPOT TEA SET", 3, "2010-12-03 11:59", 4.95, 12347.0, "Iceland"),
    ("536700", "POST", "POSTAGE", 1, "2010-12-03 12:00", 18.0, 12347.0, "Iceland"),
]


def raw_table() -> pd.DataFrame:
    df = pd.DataFrame(ROWS, columns=COLUMNS)
    df["CustomerID"] = df["CustomerID"].astype("Float64")
    return df


def test_converts_invoice_lines():
    raw = raw_table()
    before = raw.copy()
    data, report = convert(raw)
    pd.testing.assert_frame_equal(raw, before)                     # input not modified
    o = data.orders.set_index([s.ORDER_ID, s.LINE_NO])
    assert o.loc[("536365", 1), s.AMOUNT] == pytest.approx(6 * 3.39)
    assert o.loc[("536365", 0), s.CUSTOMER_ID] == "17850"           # never "17850.0"
    assert o.loc[("536365", 0), s.STATUS] == s.STATUS_COMPLETED
    ret = o.loc[("C536379", 0)]
    assert ret[s.STATUS] == s.STATUS_RETURNED and ret[s.CUSTOMER_ID] == "17850"
    assert ret[s.QUANTITY] == -2 and ret[s.AMOUNT] == pytest.approx(-5.10)
    assert pd.isna(o.loc[("536544", 0), s.CUSTOMER_ID])             # kept for demand
    assert o.loc[("536700", 1), s.ORDER_DATE] == pd.Timestamp("2010-12-03 11:59")
    assert set(data.orders[s.CUSTOMER_ID].dropna().map(type)) == {str}


def test_report_counts_everything():
    _, report = convert(raw_table())
    assert report.lines_read == 9 and report.invoices == 7 and report.customers == 2
    assert report.converted == 6 and report.returned == 1 and report.without_customer == 1
    assert report.set_aside == {REASON_NEGATIVE_QTY: 1, REASON_ZERO_PRICE: 1,
                                REASON_NEGATIVE_PRICE: 1}
    assert report.converted + sum(report.set_aside.values()) == report.lines_read
    assert report.repairs == {REPAIR_DATES: 1}
    table = report.to_frame()
    assert table.loc[table["item"] == "lines read", "count"].item() == 9


def test_customers_and_products_tables():
    data, _ = convert(raw_table())
    assert data.customers[s.CUSTOMER_ID].tolist() == ["12347", "17850"]   # no empty id
    assert data.customers.set_index(s.CUSTOMER_ID)["country"]["12347"] == "Iceland"
    products = data.products.set_index(s.PRODUCT_ID)
    assert "21777" not in products.index                           # only converted lines
    assert products.loc["85123A", "description"] == "WHITE HANGING HEART"


def test_result_passes_the_contract():
    data, _ = convert(raw_table())
    report = validate_dataset(data)
    assert report.ok, "\n".join(p.format() for p in report.problems)


def test_online_retail_ii_names_and_csv_text(tmp_path):
    """Online Retail II columns, read from CSV as text (ids like "17850.0" still become "17850")."""
    from forecasting.io import read_table, write_table

    raw = raw_table().rename(columns={"InvoiceNo": "Invoice", "UnitPrice": "Price",
                                      "CustomerID": "Customer ID"})
    path = write_table(raw, tmp_path / "online_retail_II.csv")
    text = read_table(path)
    assert text["Customer ID"].dropna().iloc[0] == "17850.0"
    data, report = convert(text)
    expected, expected_report = convert(raw_table())
    pd.testing.assert_frame_equal(data.orders, expected.orders)
    assert report.as_dict()["set_aside"] == expected_report.as_dict()["set_aside"]


def test_missing_column_is_a_user_error():
    with pytest.raises(ForecastingError, match="UnitPrice"):
        convert(raw_table().drop(columns=["UnitPrice"]))


def test_cli_import(tmp_path, capsys):
    from forecasting.cli import main
    from forecasting.io import read_dataset, write_table

    src = write_table(raw_table(), tmp_path / "raw.parquet")
    assert main(["import", "online-retail", str(src), str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "lines read" in printed and "set aside" in printed
    assert {p.name for p in (tmp_path / "out").iterdir()} == {
        "orders.parquet", "customers.parquet", "products.parquet"}
    assert len(read_dataset(tmp_path / "out").orders) == 6
    assert main(["import", "online-retail", str(src), str(tmp_path / "csv"),
                 "--format", "csv"]) == 0
    assert (tmp_path / "csv" / "orders.csv").exists()
    assert main(["import", "online-retail", str(tmp_path / "absent.csv"),
                 str(tmp_path / "x")]) == 1


def _shared_data() -> Path:
    """../shared/data next to the repository; skip with a reason when it is absent."""
    path = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data").resolve()
    if not path.is_dir():
        pytest.skip(f"real data not available: {path} is absent")
    return path


@pytest.mark.realdata
def test_real_file_matches_published_counts():
    path = _shared_data() / "online_retail" / "online_retail.parquet"
    if not path.exists():
        pytest.skip(f"real data not available: {path} is absent")
    from forecasting.io import read_table

    data, report = convert(read_table(path))
    # published by UCI (Chen, Sain & Guo 2012): 541,909 lines, 25,900 invoices, 4,372 customers
    assert (report.lines_read, report.invoices, report.customers) == (541_909, 25_900, 4_372)
    assert report.returned == 9_288                                  # every "C" line
    assert report.without_customer == 132_603
    assert report.set_aside == {REASON_NEGATIVE_QTY: 1_336, REASON_NEGATIVE_PRICE: 2,
                                REASON_ZERO_PRICE: 1_179}
    assert report.converted == 539_392 == len(data.orders)
    assert len(data.customers) == 4_372
    assert not data.orders[s.CUSTOMER_ID].dropna().str.contains(r"\.").any()
    assert validate_dataset(data).ok
