"""One date format per column: detection on distinct values, boundary cases commented."""

from __future__ import annotations

import pandas as pd
import pytest

from forecasting.dates import parse_dates


def ts(*values: str) -> list[pd.Timestamp]:
    return [pd.Timestamp(v) if v else pd.NaT for v in values]


@pytest.mark.parametrize("values, fmt, expected", [
    # ISO with and without time, empty cells stay missing
    (["2024-01-05", "2024-01-06 10:00:00", None, " "], "iso",
     ts("2024-01-05", "2024-01-06 10:00", "", "")),
    # Excel on a Chinese system: year first with slashes, no zero padding
    (["2024/1/5", "2024/12/31 8:05"], "iso", ts("2024-01-05", "2024-12-31 08:05")),
    # an offset is converted to UTC
    (["2024-01-01T10:00:00+01:00", "2024-01-02"], "iso", ts("2024-01-01 09:00", "2024-01-02")),
    # 13 can only be a day: the column is day-first, 02/01 is 2 January
    (["02/01/2024", "13/01/2024"], "dayfirst", ts("2024-01-02", "2024-01-13")),
    # US export with times: 13 can only be a day, here in second place
    (["1/13/2024 10:05", "12/1/2010 8:26"], "monthfirst",
     ts("2024-01-13 10:05", "2010-12-01 08:26")),
    # day equals month everywhere: both readings agree, nothing is ambiguous
    (["01.01.2024", "05.05.2024"], "dayfirst", ts("2024-01-01", "2024-05-05")),
])
def test_detected_format(values, fmt, expected):
    r = parse_dates(pd.Series(values, dtype="str"))
    assert (r.format, r.detected, r.ambiguous, r.mixed) == (fmt, True, None, None)
    assert r.values.tolist() == expected


def test_every_day_below_13_is_ambiguous_for_the_differing_rows():
    r = parse_dates(pd.Series(["01/02/2024", "03/03/2024", "04/05/2024"]))
    assert r.ambiguous.tolist() == [True, False, True]


def test_a_value_only_the_other_order_reads_is_mixed():
    r = parse_dates(pd.Series(["13/01/2024", "14/01/2024", "01/15/2024", "x"]))
    assert (r.format, r.other_format) == ("dayfirst", "monthfirst")
    assert r.mixed.tolist() == [False, False, True, False]  # 'x' is unparseable, not mixed
    assert r.values.isna().tolist() == [False, False, True, True]


def test_iso_wins_a_tie_and_impossible_dates_are_missing():
    r = parse_dates(pd.Series(["2023-13-45", "2024-02-30", "2024-02-29"]))
    assert r.format == "iso" and r.values.isna().tolist() == [True, True, False]


def test_typed_dates_pass_through_and_zoned_ones_become_utc():
    naive = pd.Series(pd.to_datetime(["2024-01-01"]))
    assert parse_dates(naive).values.equals(naive) and parse_dates(naive).format is None
    zoned = pd.Series(pd.to_datetime(["2024-01-01 10:00"]).tz_localize("Europe/Berlin"))
    assert parse_dates(zoned).values.tolist() == ts("2024-01-01 09:00")
