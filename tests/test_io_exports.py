"""Files as CRM and ERP users export them: each written here byte for byte the way the
exporting program writes it, then read through the same path as every command."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pandas as pd
import pytest

from forecasting.cli import build_parser
from forecasting.errors import DataError, ForecastingError
from forecasting.io import ReadOptions, read_dataset, read_source, read_sources
from forecasting.validate import validate_tables

NOW = pd.Timestamp("2024-12-31")
HEADER = "order_id,customer_id,product_id,order_date,quantity,amount"


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "forecasting", *args],
                          capture_output=True, text=True, timeout=120)


def write(path, text: str, encoding: str = "utf-8", newline: str = "\r\n") -> None:
    """Lines joined the way Windows programs end them (CRLF), in the given encoding."""
    path.write_bytes(newline.join(text.strip("\n").split("\n")).encode(encoding) + b"\r\n")


def validate(folder, **options):
    tables, sources = read_sources(folder, ReadOptions(**options))
    return validate_tables(tables, now=NOW, options=ReadOptions(**options), sources=sources)


# --- Excel "CSV" on a Chinese Windows: GBK/GB18030 without BOM, CRLF, Chinese names -------
GBK_ORDERS = """\
订单号,客户,产品,日期,数量,金额
DD001,张三公司,P01,2024/1/5,3,36.5
DD001,张三公司,P02,2024/1/5,1,12
DD002,李四工厂,P01,2024/1/13 9:30,2,24.4
"""
COLUMN_MAP = """\
[orders]
"订单号" = "order_id"
"客户" = "customer_id"
"产品" = "product_id"
"日期" = "order_date"
"数量" = "quantity"
"金额" = "amount"
"""


def test_gbk_export_with_chinese_column_names_validates_through_columns(tmp_path):
    write(tmp_path / "orders.csv", GBK_ORDERS, encoding="gbk")
    (tmp_path / "columns.toml").write_text(COLUMN_MAP, encoding="gbk")  # Notepad on GBK
    r = cli("validate", str(tmp_path), "--columns", str(tmp_path / "columns.toml"),
            "--now", "2024-12-31")
    assert r.returncode == 0, r.stderr
    assert "encoding gb18030 (detected)" in r.stdout
    assert "订单号 -> order_id" in r.stdout and "order_date iso (detected)" in r.stdout
    assert "Traceback" not in r.stderr
    data = read_dataset(tmp_path, now=NOW, options=ReadOptions.from_strings(
        columns=tmp_path / "columns.toml"))
    o = data.orders
    assert o["customer_id"].tolist() == ["张三公司", "张三公司", "李四工厂"]
    assert o["order_date"].tolist() == [pd.Timestamp("2024-01-05")] * 2 + [
        pd.Timestamp("2024-01-13 09:30")]
    assert o["amount"].tolist() == [36.5, 12.0, 24.4]


def test_gbk_whose_first_64_kb_are_ascii_is_still_detected(tmp_path):
    rows = [f"o{i},c{i % 97},p1,2024-01-01,1,10" for i in range(4000)]  # about 120 KB
    write(tmp_path / "orders.csv", "\n".join([HEADER, *rows, "o9999,张三,p1,2024-01-02,1,10"]),
          encoding="gbk")
    report = validate(tmp_path)
    assert report.ok and "encoding gb18030 (detected)" in report.reading[0]
    assert report.dataset.orders["customer_id"].iloc[-1] == "张三"


def test_gbk_without_the_column_map_says_how_to_map(tmp_path):
    write(tmp_path / "orders.csv", GBK_ORDERS, encoding="gbk")
    report = validate(tmp_path)
    missing = [p for p in report.problems if p.rule == "missing column"]
    assert {p.column for p in missing} == {"order_id", "customer_id", "product_id",
                                          "order_date", "quantity", "amount"}
    assert "订单号" in missing[0].message and "--columns" in missing[0].fix


def test_column_map_naming_an_absent_column_is_a_clear_error(tmp_path):
    write(tmp_path / "orders.csv", GBK_ORDERS, encoding="gbk")
    with pytest.raises(ForecastingError, match="'订单编号' but the file has no such column"):
        read_sources(tmp_path, ReadOptions(columns={"orders": {"订单编号": "order_id"}}))
    with pytest.raises(ForecastingError, match="looks reversed"):
        read_sources(tmp_path, ReadOptions(columns={"orders": {"order_id": "订单号"}}))
    (tmp_path / "bad.toml").write_text('[orderz]\n"a" = "order_id"\n', encoding="utf-8")
    with pytest.raises(ForecastingError, match="'orderz' is not a table"):
        ReadOptions.from_strings(columns=tmp_path / "bad.toml")


# --- European export: semicolons, decimal commas, day.month.year, Windows-1252 ---------------
EURO_ORDERS = """\
order_id;customer_id;product_id;order_date;quantity;amount
A-1;K001;P01;13.01.2024;3;36,50
A-2;K002;P01;02.01.2024;1;12,00
A-3;K001;P02;28.02.2024;1;7,25
"""


def test_semicolon_export_with_decimal_commas_validates(tmp_path):
    write(tmp_path / "orders.csv", EURO_ORDERS, encoding="cp1252")
    write(tmp_path / "customers.csv",
          "customer_id;name;credit_limit\nK001;Müller GmbH;5000,50\nK002;Señor Café;250",
          encoding="cp1252")
    report = validate(tmp_path)
    assert report.ok, [p.format() for p in report.problems]
    orders_line = next(x for x in report.reading if x.startswith("orders.csv"))
    assert "delimiter ';' (detected)" in orders_line and "decimal ',' (detected)" in orders_line
    assert "order_date dayfirst (detected)" in orders_line
    customers_line = next(x for x in report.reading if x.startswith("customers.csv"))
    assert "encoding cp1252 (detected)" in customers_line
    assert "decimal ',' (detected), also read in credit_limit" in customers_line
    o = report.dataset.orders
    assert o["amount"].tolist() == [36.5, 12.0, 7.25]
    assert o["order_date"].tolist() == [pd.Timestamp("2024-01-13"), pd.Timestamp("2024-01-02"),
                                        pd.Timestamp("2024-02-28")]
    assert report.dataset.customers["name"].tolist() == ["Müller GmbH", "Señor Café"]
    assert report.dataset.customers["credit_limit"].tolist() == ["5000.50", "250"]


def test_with_a_decimal_comma_dots_are_thousands_separators_only(tmp_path):
    write(tmp_path / "orders.csv", EURO_ORDERS.replace("36,50", "1.036,50"))
    report = validate(tmp_path)  # detected: the dot groups thousands
    assert report.ok and "decimal ',' (detected)" in report.reading[0]
    assert report.dataset.orders["amount"].tolist() == [1036.5, 12.0, 7.25]
    write(tmp_path / "orders.csv", EURO_ORDERS.replace("36,50", "36.5"))
    report = validate(tmp_path, decimal=",")
    bad = next(p for p in report.problems if p.rule == "wrong type")
    assert bad.column == "amount" and bad.rows[0]["amount"] == "36.5"
    assert "thousands" in bad.fix


def test_decimal_comma_without_detection_names_the_option(tmp_path):
    write(tmp_path / "orders.csv", EURO_ORDERS)
    report = validate(tmp_path, decimal=".")
    bad = next(p for p in report.problems if p.column == "amount")
    assert bad.rule == "wrong type" and "--decimal ," in bad.fix


def test_numbers_like_1_234_are_ambiguous_and_need_decimal(tmp_path):
    write(tmp_path / "orders.csv", HEADER + '\no1,c1,p1,2024-01-01,1,"1,234"')
    with pytest.raises(ForecastingError, match="--decimal"):
        read_sources(tmp_path)
    assert validate(tmp_path, decimal=",").dataset.orders["amount"].tolist() == [1.234]


def test_a_wrong_delimiter_says_so(tmp_path):
    write(tmp_path / "orders.csv", EURO_ORDERS)
    r = cli("validate", str(tmp_path), "--sep", ",")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "the delimiter looks like ';'" in r.stderr and "--sep ';'" in r.stderr


def test_a_one_column_header_names_the_delimiter(tmp_path):
    write(tmp_path / "orders.csv", HEADER.replace(",", ";"))  # a header only: parses fine
    report = validate(tmp_path, sep=",")
    missing = next(p for p in report.problems if p.rule == "missing column")
    assert "read as one column" in missing.fix and "--sep ';'" in missing.fix


def test_a_line_with_too_many_fields_names_the_delimiter(tmp_path):
    write(tmp_path / "orders.csv", HEADER + "\no1,c1,p1,2024-01-01,1,12,5")
    with pytest.raises(ForecastingError, match="another number of fields.*decimal comma"):
        read_sources(tmp_path)


# --- UTF-8 with BOM (Excel "CSV UTF-8") and a real .xlsx workbook ------------------------------
def test_utf8_with_bom_keeps_the_first_column_name(tmp_path):
    write(tmp_path / "orders.csv", HEADER + "\no1,c1,p1,2024-01-01,1,10", encoding="utf-8-sig")
    report = validate(tmp_path)
    assert report.ok and "encoding utf-8-sig (detected)" in report.reading[0]
    assert report.dataset.orders["order_id"].tolist() == ["o1"]


def test_xlsx_written_by_openpyxl_reads_like_csv(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["order_id", "customer_id", "product_id", "order_date", "quantity", "amount"])
    ws.append([536365, 17850, "85123A", dt.datetime(2024, 1, 5, 8, 26), 6, 15.3])
    ws.append([536366, 17850, 22423, dt.datetime(2024, 1, 6), 2, 25.5])
    wb.create_sheet("notes").append(["not read"])
    wb.save(tmp_path / "orders.xlsx")
    df, info = read_source(tmp_path / "orders.xlsx", table="orders")
    assert info.kind == "xlsx"
    report = validate(tmp_path)
    assert report.ok, [p.format() for p in report.problems]
    o = report.dataset.orders
    assert o["order_id"].tolist() == ["536365", "536366"]  # whole numbers lose their .0
    assert o["customer_id"].tolist() == ["17850", "17850"]
    assert o["product_id"].tolist() == ["85123A", "22423"]
    assert o["order_date"].tolist() == [pd.Timestamp("2024-01-05 08:26"),
                                        pd.Timestamp("2024-01-06")]
    assert o["amount"].tolist() == [15.3, 25.5]


def test_csv_and_xlsx_of_one_table_is_a_clash(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    openpyxl.Workbook().save(tmp_path / "orders.xlsx")
    write(tmp_path / "orders.csv", HEADER)
    with pytest.raises(ForecastingError, match="more than one file"):
        read_sources(tmp_path)


# --- dates: one format per column --------------------------------------------------------------
def dates_file(tmp_path, dates: list[str]):
    rows = [f"o{i},c1,p1,{d},1,10" for i, d in enumerate(dates)]
    write(tmp_path / "orders.csv", "\n".join([HEADER, *rows]))
    return tmp_path


def test_dates_needing_two_formats_are_rejected_naming_the_rows(tmp_path):
    report = validate(dates_file(tmp_path, ["13/01/2024", "01/14/2024", "15/01/2024"]))
    mixed = next(p for p in report.problems if p.rule == "mixed date formats")
    assert (mixed.table, mixed.column, mixed.count) == ("orders", "order_date", 1)
    assert mixed.rows == [{"row": 2, "order_id": "o1", "order_date": "01/14/2024"}]
    assert "monthfirst" in mixed.message and "dayfirst" in mixed.message


def test_a_day_above_12_settles_the_column_and_is_stated(tmp_path):
    report = validate(dates_file(tmp_path, ["02/01/2024", "13/01/2024"]))
    assert report.ok
    assert report.dataset.orders["order_date"].tolist() == [pd.Timestamp("2024-01-02"),
                                                             pd.Timestamp("2024-01-13")]
    assert "order_date dayfirst (detected)" in report.reading[0]


def test_ambiguous_dates_ask_for_date_format(tmp_path):
    dates_file(tmp_path, ["02/01/2024", "03/01/2024", "03/03/2024"])
    report = validate(tmp_path)
    amb = next(p for p in report.problems if p.rule == "ambiguous date format")
    assert amb.column == "order_date" and amb.count == 2 and "--date-format" in amb.fix
    given = validate(tmp_path, date_format="monthfirst")
    assert given.ok and given.dataset.orders["order_date"].dt.day.tolist() == [1, 1, 3]
    assert "order_date monthfirst (given)" in given.reading[0]


def test_a_given_format_leaves_iso_columns_iso(tmp_path):
    rows = ["o1,c1,p1,02/01/2024,1,10,2024-01-09", "o2,c1,p1,03/01/2024,1,10,2024-01-10"]
    write(tmp_path / "orders.csv", "\n".join([HEADER + ",promised_date", *rows]))
    report = validate(tmp_path, date_format="dayfirst")
    assert report.ok, [p.format() for p in report.problems]
    assert "order_date dayfirst (given), promised_date iso (detected)" in report.reading[0]
    assert report.dataset.orders["order_date"].dt.day.tolist() == [2, 3]


def test_a_strptime_pattern_is_used_as_given(tmp_path):
    report = validate(dates_file(tmp_path, ["05 Jan 2024", "31 Jan 2024", "1 Feb 2024"]),
                      date_format="%d %b %Y")
    assert report.ok
    assert report.dataset.orders["order_date"].dt.strftime("%m-%d").tolist() == [
        "01-05", "01-31", "02-01"]
    wrong = validate(tmp_path, date_format="%Y-%m-%d")
    bad = next(p for p in wrong.problems if p.rule == "unparseable date")
    assert bad.count == 3 and "%Y-%m-%d" in bad.fix


def test_bad_read_options_are_clear_errors():
    with pytest.raises(ForecastingError, match="--date-format 'yesterday'"):
        ReadOptions(date_format="yesterday")
    with pytest.raises(ForecastingError, match="unknown encoding"):
        ReadOptions(encoding="klingon")
    assert ReadOptions.from_strings(sep="tab").sep == "\t"


READERS = [["validate"], ["features"], ["train", "churn"], ["train", "demand"], ["score"],
           ["segments"], ["kpis"], ["followup"], ["plan"], ["serve"]]


@pytest.mark.parametrize("command", READERS, ids=" ".join)
def test_every_command_reading_data_dir_takes_the_read_options(command, capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args([*command, "--help"])
    out = capsys.readouterr().out
    for option in ("--encoding", "--sep", "--decimal", "--date-format", "--columns"):
        assert option in out


def test_data_error_from_a_bad_export_lists_every_problem(tmp_path):
    write(tmp_path / "orders.csv", EURO_ORDERS.replace("13.01.2024", "31.02.2024"))
    with pytest.raises(DataError) as err:
        read_dataset(tmp_path, now=NOW)
    assert "orders.order_date" in str(err.value) and "31.02.2024" in str(err.value)


def test_a_column_named_twice_is_reported_not_renamed(tmp_path):
    write(tmp_path / "orders.csv", HEADER + ",amount\no1,c1,p1,2024-01-01,1,10,12")
    report = validate(tmp_path)
    assert [(p.column, p.rule) for p in report.problems] == [("amount", "duplicate column")]
