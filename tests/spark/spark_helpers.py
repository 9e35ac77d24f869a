"""What the Spark tests share: the comparison of a local and a Spark table, and the
validation's "now"."""

from __future__ import annotations

import numpy as np
import pandas as pd

NOW = pd.Timestamp("2026-01-01")


def assert_same(local: pd.DataFrame, spark: pd.DataFrame, key: list[str]) -> None:
    """Same columns and rows (sorted by ``key``); numbers within 1e-9, the rest equal."""
    assert list(spark.columns) == list(local.columns)
    local = local.sort_values(key, kind="stable").reset_index(drop=True)
    spark = spark.sort_values(key, kind="stable").reset_index(drop=True)
    assert len(local) == len(spark) > 0
    for c in local.columns:
        a, b = local[c], spark[c]
        if pd.api.types.is_numeric_dtype(a) and not pd.api.types.is_bool_dtype(a):
            np.testing.assert_allclose(b.astype(float).to_numpy(), a.astype(float).to_numpy(),
                                       rtol=1e-9, atol=1e-9, err_msg=c)
        elif pd.api.types.is_datetime64_any_dtype(a):
            assert (a.isna() == b.isna()).all() and (a.dropna() == b.dropna()).all(), c
        else:
            a = a.astype(object).where(a.notna(), None).map(lambda v: None if v is None else
                                                              str(v))
            b = b.astype(object).where(b.notna(), None).map(lambda v: None if v is None else
                                                              str(v))
            assert a.tolist() == b.tolist(), c
