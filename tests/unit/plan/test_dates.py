"""Calendar arithmetic and the short date format: one definition each (plan.dates)."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smart_app.plan.dates import add_months, one_year_before
from smart_app.plan.i18n import format_date


@pytest.mark.parametrize("day,months,expected", [
    (date(2025, 8, 31), 6, date(2026, 2, 28)),
    (date(2023, 8, 31), 6, date(2024, 2, 29)),
    (date(2025, 3, 15), 12, date(2026, 3, 15)),
    (date(2025, 11, 30), 3, date(2026, 2, 28)),
    (date(2026, 11, 15), 2, date(2027, 1, 15)),
    (date(2024, 2, 29), -24, date(2022, 2, 28)),
    (date(2025, 1, 31), -2, date(2024, 11, 30)),
    (date(2027, 12, 31), 1, date(2028, 1, 31)),
])
def test_months_keep_the_day_or_the_last_day_of_a_shorter_month(day, months, expected):
    assert add_months(day, months) == expected


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 1, 1)), st.integers(-1200, 1200))
def test_adding_months_lands_in_the_right_month_never_past_the_day(day, months):
    later = add_months(day, months)
    assert (later.year * 12 + later.month) - (day.year * 12 + day.month) == months
    assert later.day <= day.day


def test_a_year_before_29_february_is_365_days_before():
    assert one_year_before(date(2028, 2, 29)) == date(2027, 3, 1)
    assert one_year_before(date(2027, 6, 30)) == date(2026, 6, 30)


def test_the_one_date_format_long_and_short():
    assert format_date(date(2026, 3, 3), short=True) == "3 Mar 2026"
    assert format_date(date(2026, 12, 31)) == "31 December 2026"
    assert format_date(date(2026, 12, 31), "es") == "31 de diciembre de 2026"
    assert format_date(None) == ""
