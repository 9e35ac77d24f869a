"""UCI Online Retail (and Online Retail II) invoice lines -> the data contract.

Input: the raw table as read from the CSV or Parquet file, with either column layout

* Online Retail:    InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice,
  CustomerID, Country
* Online Retail II: Invoice, StockCode, Description, Quantity, InvoiceDate, Price,
  Customer ID, Country

Conversion rules:

* every invoice line becomes an order line: ``order_id`` = invoice, ``line_no`` = position of
  the line within its invoice in the file (kept as in the source, so a line can be traced back
  even when a neighbour was set aside), ``product_id`` = StockCode, ``quantity`` = Quantity,
  ``amount`` = Quantity x unit price, ``order_date`` = the invoice's first InvoiceDate (a few
  invoices have lines a minute apart; the contract wants one date per order: counted as a
  repair);
* a cancellation (invoice starting with ``C``) becomes a ``returned`` line of the same customer
  with negative quantity and amount; every other line is ``completed``;
* ``customer_id`` is the string of the integer id (``"17850"``, never ``"17850.0"``); lines
  without one stay in ``orders`` with an empty ``customer_id`` (they count for product demand)
  but are kept out of ``customers`` and counted;
* ``customers``: one row per customer id with the country of their first line;
  ``products``: one row per stock code with its most frequent description and median price.

Set aside (counted by reason, never silently dropped), because the contract cannot hold them
or they are not sales:

* negative quantity on an invoice that is not a cancellation (stock write-offs such as
  "damaged" or "lost": no customer, no price);
* zero unit price (stock notes such as "check", "found", "adjustment", and free samples: no
  revenue; the few with a customer are free goods, not demand we could price);
* negative unit price ("Adjust bad debt" accounting entries);
* missing stock code, or a quantity, price or date that does not parse.

Kept as they are: non-product codes such as POST (postage), M (manual), D (discount), DOT,
BANK CHARGES: they are real lines of real invoices; demand models may filter them by code.

Example:
    >>> import pandas as pd
    >>> raw = pd.DataFrame({"InvoiceNo": ["1", "C2"], "StockCode": ["A", "A"],
    ...     "Description": ["mug", "mug"], "Quantity": [3, -1],
    ...     "InvoiceDate": ["2011-01-01 10:00", "2011-01-02 10:00"], "UnitPrice": [2.0, 2.0],
    ...     "CustomerID": [17850.0, 17850.0], "Country": ["UK", "UK"]})
    >>> data, report = convert(raw)
    >>> data.orders[["order_id", "customer_id", "quantity", "amount", "status"]].values.tolist()
    [['1', '17850', 3.0, 6.0, 'completed'], ['C2', '17850', -1.0, -2.0, 'returned']]
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from forecasting import schema as s
from forecasting.dataset import Dataset
from forecasting.errors import ForecastingError
from forecasting.importers import ImportReport

log = logging.getLogger("forecasting.importers.online_retail")

INVOICE, STOCK, DESCRIPTION, QTY, DATE, PRICE, CUSTOMER, COUNTRY = (
    "InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice",
    "CustomerID", "Country")
LAYOUT_II = {"Invoice": INVOICE, "Price": PRICE, "Customer ID": CUSTOMER}
REQUIRED = (INVOICE, STOCK, QTY, DATE, PRICE, CUSTOMER)

REASON_NEGATIVE_QTY = "negative quantity on a non-cancellation invoice (stock write-off)"
REASON_ZERO_PRICE = "zero unit price (stock note or free sample, not a sale)"
REASON_NEGATIVE_PRICE = "negative unit price (accounting adjustment)"
REASON_NO_STOCK = "no stock code"
REASON_BAD_NUMBER = "quantity or unit price not a number"
REASON_BAD_DATE = "invoice date does not parse"
REPAIR_DATES = "invoices with lines at different times -> invoice's first time"


def _standard_columns(raw: pd.DataFrame) -> pd.DataFrame:
    """Rename Online Retail II columns to the Online Retail names; check what is required."""
    df = raw.rename(columns={k: v for k, v in LAYOUT_II.items() if k in raw.columns})
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise ForecastingError(
            f"online-retail: missing column(s) {', '.join(missing)}; found "
            f"{', '.join(map(str, raw.columns))}. Expected the UCI Online Retail layout "
            f"({', '.join(REQUIRED)}, Description, Country) or Online Retail II "
            f"(Invoice, StockCode, Description, Quantity, InvoiceDate, Price, Customer ID, "
            f"Country)")
    return df


def _text(col: pd.Series) -> pd.Series:
    """Stripped text, empty -> missing."""
    out = col.astype("string").str.strip()
    return out.mask(out == "")


def customer_ids(col: pd.Series) -> pd.Series:
    """Customer ids as text of the integer: 17850, 17850.0 and "17850.0" all give "17850"."""
    return _text(col).str.replace(r"\.0+$", "", regex=True)


def convert(raw: pd.DataFrame) -> tuple[Dataset, ImportReport]:
    """Convert raw Online Retail invoice lines into a Dataset (orders, customers, products).

    ``raw`` is not modified. Returns the data set and the report of what was converted and
    what was set aside (see the module docstring for the rules).
    """
    df = _standard_columns(raw)
    inv = _text(df[INVOICE])
    cust = customer_ids(df[CUSTOMER])
    report = ImportReport(source="online-retail", lines_read=len(df),
                          invoices=int(inv.nunique()), customers=int(cust.nunique()))
    stock = _text(df[STOCK])
    qty = pd.to_numeric(df[QTY], errors="coerce").astype(float)
    price = pd.to_numeric(df[PRICE], errors="coerce").astype(float)
    date = pd.to_datetime(df[DATE], errors="coerce")
    if getattr(date.dt, "tz", None) is not None:
        date = date.dt.tz_localize(None)
    cancel = inv.str.upper().str.startswith("C").fillna(False).to_numpy(bool)
    line_no = inv.groupby(inv, sort=False, dropna=False).cumcount()

    reasons = [
        (REASON_NO_STOCK, stock.isna() | inv.isna()),
        (REASON_BAD_NUMBER, qty.isna() | price.isna()),
        (REASON_BAD_DATE, date.isna()),
        (REASON_NEGATIVE_QTY, (qty < 0) & ~cancel),
        (REASON_NEGATIVE_PRICE, price < 0),
        (REASON_ZERO_PRICE, price == 0),
    ]
    aside = np.zeros(len(df), bool)
    for why, mask in reasons:  # each line counts once, under the first reason that applies
        hit = np.asarray(mask.fillna(False), bool) & ~aside
        if hit.any():
            report.set_aside[why] = int(hit.sum())
        aside |= hit
    keep = ~aside

    signed_qty = np.where(cancel, -qty.abs(), qty)[keep]
    orders = pd.DataFrame({
        s.ORDER_ID: inv[keep].astype(str).to_numpy(),
        s.LINE_NO: line_no[keep].to_numpy(),
        s.CUSTOMER_ID: cust[keep].astype(object).where(cust[keep].notna(), None).to_numpy(),
        s.PRODUCT_ID: stock[keep].astype(str).to_numpy(),
        s.ORDER_DATE: date[keep].to_numpy(),
        s.QUANTITY: signed_qty,
        s.AMOUNT: signed_qty * price[keep].to_numpy(),
        s.STATUS: np.where(cancel[keep], s.STATUS_RETURNED, s.STATUS_COMPLETED),
    })
    first = orders.groupby(s.ORDER_ID, sort=False)[s.ORDER_DATE].transform("min")
    spread = orders.loc[orders[s.ORDER_DATE] != first, s.ORDER_ID].nunique()
    if spread:
        report.repairs[REPAIR_DATES] = int(spread)
        orders[s.ORDER_DATE] = first
    orders[s.CUSTOMER_ID] = orders[s.CUSTOMER_ID].astype("str")
    orders.loc[cust[keep].isna().to_numpy(), s.CUSTOMER_ID] = np.nan

    report.converted = len(orders)
    report.returned = int((orders[s.STATUS] == s.STATUS_RETURNED).sum())
    report.without_customer = int(orders[s.CUSTOMER_ID].isna().sum())
    customers = _customers(df, cust)
    products = _products(df, stock, price, keep)
    report.products = len(products)
    log.info("online-retail: %d of %d lines converted, %d set aside",
             report.converted, report.lines_read, report.lines_read - report.converted)
    return Dataset(orders=orders, customers=customers, products=products), report


def _customers(df: pd.DataFrame, cust: pd.Series) -> pd.DataFrame:
    """One row per customer id (including those whose lines were all set aside)."""
    country = _text(df[COUNTRY]) if COUNTRY in df else pd.Series(pd.NA, index=df.index)
    table = pd.DataFrame({s.CUSTOMER_ID: cust, "country": country}).dropna(subset=[s.CUSTOMER_ID])
    out = table.groupby(s.CUSTOMER_ID, sort=True).first().reset_index()
    out[s.CUSTOMER_ID] = out[s.CUSTOMER_ID].astype(str)
    return out


def _products(df: pd.DataFrame, stock: pd.Series, price: pd.Series, keep: np.ndarray
              ) -> pd.DataFrame:
    """One row per converted stock code: most frequent description, median unit price."""
    desc = _text(df[DESCRIPTION]) if DESCRIPTION in df else pd.Series(pd.NA, index=df.index)
    t = pd.DataFrame({s.PRODUCT_ID: stock, "description": desc, "unit_price": price})[keep]
    g = t.groupby(s.PRODUCT_ID, sort=True)
    top = (t.dropna(subset=["description"])
           .groupby([s.PRODUCT_ID, "description"]).size().rename("n").reset_index()
           .sort_values([s.PRODUCT_ID, "n"], ascending=[True, False])
           .drop_duplicates(s.PRODUCT_ID).set_index(s.PRODUCT_ID)["description"])
    out = pd.DataFrame({"unit_price": g["unit_price"].median()})
    out["description"] = top.reindex(out.index)
    out = out.reset_index()[[s.PRODUCT_ID, "description", "unit_price"]]
    out[s.PRODUCT_ID] = out[s.PRODUCT_ID].astype(str)
    return out
