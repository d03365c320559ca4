"""One clock: only smart_app/clock.py reads the system clock, and a pinned clock keeps its day."""

import ast
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from smart_app.clock import Clock

PACKAGE = Path(__file__).resolve().parents[2] / "smart_app"

# Calls that read the system's date or time of day (durations from time.monotonic are fine).
CLOCK_READS = {("date", "today"), ("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"),
               ("time", "time"), ("time", "time_ns"), ("time", "localtime"), ("time", "gmtime"), ("time", "ctime")}


def clock_reads(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else ""
            if (name, node.func.attr) in CLOCK_READS:
                found.append(f"{name}.{node.func.attr}() line {node.lineno}")
            elif (name, node.func.attr) == ("time", "strftime") and len(node.args) < 2:
                found.append(f"time.strftime() without a time, line {node.lineno}")
    return found


def test_the_scan_finds_every_kind_of_clock_read():
    source = ("date.today()\ndatetime.now(UTC)\ndt.datetime.utcnow()\ntime.time()\ntime.strftime('%Y')\n"
              "time.monotonic()\ntime.strftime('%Y', t)\n")
    assert len(clock_reads(source)) == 5


def test_no_module_but_the_clock_reads_the_system_clock():
    offenders = {str(path.relative_to(PACKAGE)): reads for path in sorted(PACKAGE.rglob("*.py"))
                 if path.name != "clock.py" and (reads := clock_reads(path.read_text(encoding="utf-8")))}
    assert offenders == {}


@pytest.mark.parametrize("day", [date(2027, 1, 31), date(2027, 2, 28), date(2028, 2, 29), date(2027, 6, 30),
                                 date(2027, 12, 31)])
@pytest.mark.parametrize("zone", ["UTC", "America/Chicago", "Pacific/Kiritimati"])
def test_a_pinned_clock_is_on_its_day_at_noon_and_keeps_ticking(day, zone):
    clock = Clock.pinned(day, zone)
    assert clock.today() == day
    first = clock.now()
    assert first.tzinfo is not None and first.utcoffset() == timedelta(0)
    assert clock.local_date(first) == day
    assert clock.now() >= first  # time still flows: sessions age, tokens expire


def test_the_site_day_is_the_local_calendar_day_not_the_utc_one():
    late_evening_utc = datetime(2027, 3, 1, 3, 30, tzinfo=UTC)  # 21:30 on 28 Feb in Chicago
    assert Clock("America/Chicago").local_date(late_evening_utc) == date(2027, 2, 28)
    assert Clock("UTC").local_date(late_evening_utc) == date(2027, 3, 1)
    assert Clock("UTC").local_date(late_evening_utc.replace(tzinfo=None)) == date(2027, 3, 1)  # naive is UTC
