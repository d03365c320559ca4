"""Calendar arithmetic: months later or earlier, a year before. How dates are written is
plan.i18n.format_date (the one date format, long and short, English and Spanish).

Layer: pure core (smart_app.plan). Imports: stdlib only.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier, when negative), or that month's last day when it is
    shorter: 31 Aug + 6 -> 28 Feb, 29 Feb 2028 - 24 -> 28 Feb 2026."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def one_year_before(day: date) -> date:
    """The same day a year earlier; for a 29 February, 365 days earlier (1 March), so that a
    "last 12 months" window is never longer than a year."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day - timedelta(days=365)
