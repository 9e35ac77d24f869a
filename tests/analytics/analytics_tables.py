"""Hand-built order tables shared by the analytics tests (boundary rows commented)."""

from __future__ import annotations

import pandas as pd


def orders_frame(rows: list[tuple]) -> pd.DataFrame:
    """Orders from (order_id, customer_id, order_date, amount, promised, delivered, status)."""
    df = pd.DataFrame(rows, columns=["order_id", "customer_id", "order_date", "amount",
                                     "promised_date", "delivered_date", "status"])
    for c in ("order_date", "promised_date", "delivered_date"):
        df[c] = pd.to_datetime(df[c])
    df.insert(2, "product_id", "P1")
    df.insert(4, "quantity", 1.0)
    return df


def five_customers() -> pd.DataFrame:
    """Customer k1 is best on R, F and M, k5 worst; as of 2024-06-30.

    k1: 5 orders, last ON the as-of day (boundary: counts, recency 0)
    k5: 1 order, 300 days before -> R 1, F 1, M 1 -> Lost
    """
    rows = []
    for k, (n, last_days_ago, amount) in enumerate(
            [(5, 0, 500.0), (4, 30, 400.0), (3, 60, 300.0), (2, 90, 200.0), (1, 300, 100.0)],
            start=1):
        last = pd.Timestamp("2024-06-30") - pd.Timedelta(days=last_days_ago)
        for i in range(n):
            day = last - pd.Timedelta(days=7 * i)
            rows.append((f"O{k}{i}", f"k{k}", day.strftime("%Y-%m-%d"), amount / n, None, None,
                         "completed"))
    rows.append(("O99", "k1", "2024-07-01", 999.0, None, None, "completed"))  # after as-of
    rows.append(("O98", "k2", "2024-06-01", 999.0, None, None, "cancelled"))  # no revenue
    rows.append(("O97", "k2", "2024-06-02", -40.0, None, None, "returned"))  # credit note
    return orders_frame(rows)
