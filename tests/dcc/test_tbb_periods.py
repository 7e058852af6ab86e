"""Periods of the dashboard: what ``--period`` accepts and the windows every dashboard shows."""

from datetime import date

import pytest

from dcc.tbb.periods import Month, Period, PeriodError, windows


@pytest.mark.parametrize(
    ("text", "kind", "first", "last"),
    [
        ("2026-Q3", "quarter", "2026-07", "2026-09"),
        ("2026-q1", "quarter", "2026-01", "2026-03"),
        ("2026-10", "month", "2026-10", "2026-10"),
        ("2026", "year", "2026-01", "2026-12"),
    ],
)
def test_periods_parse(text, kind, first, last):
    period = Period.parse(text)
    assert (period.kind, str(period.first), str(period.last)) == (kind, first, last)
    assert period.end() == period.last.plus(1).start()
    assert len(period.months()) == {"quarter": 3, "month": 1, "year": 12}[kind]


@pytest.mark.parametrize("text", ["2026-Q5", "2026-13", "26", "2026-1", "Q3-2026", ""])
def test_bad_periods_are_refused_with_a_reason(text):
    with pytest.raises(PeriodError) as error:
        Period.parse(text)
    assert error.value.reason == "bad_period"


def test_month_arithmetic_crosses_years():
    assert Month(2026, 12).plus(1) == Month(2027, 1)
    assert Month(2026, 1).plus(-1) == Month(2025, 12)
    assert Month(2026, 3).plus(-27) == Month(2023, 12)


def test_windows_of_a_past_quarter_and_of_a_running_year():
    past = windows(Period.parse("2026-Q3"), today=date(2026, 11, 15))
    assert str(past["current_month"].first) == "2026-09"
    assert (str(past["current_year"].first), str(past["current_year"].last)) == ("2026-01", "2026-09")
    assert (str(past["previous_year"].first), str(past["previous_year"].last)) == ("2025-01", "2025-12")
    assert (str(past["span"].first), str(past["span"].last)) == ("2025-01", "2026-09")
    running = windows(Period.parse("2026"), today=date(2026, 11, 15))
    assert str(running["current_month"].first) == "2026-11"  # the year is not over: this month, not December
    assert str(running["period"].last) == "2026-12"


def test_docs_describe_every_indicator_inca_code_and_fault():
    from pathlib import Path

    from dcc import faults
    from dcc.tbb import inca
    from dcc.tbb.indicators import INDICATORS

    text = (Path(__file__).resolve().parents[2] / "docs" / "tbb.md").read_text(encoding="utf-8")
    assert [i.name for i in INDICATORS if f"`{i.name}`" not in text] == []
    assert inca.FORMAT_ID in text and all(code[0] in text for code, *_ in inca.ROWS)
    tbb_faults = [name for name in faults.CATALOGUE if name.startswith("tbb_")]
    assert len(tbb_faults) == 4 and [f for f in tbb_faults if f"`{f}`" not in text] == []
