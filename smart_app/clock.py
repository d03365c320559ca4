"""The app's one clock. Nothing else in smart_app reads the system clock (a test guards it).

Layer: plumbing. Services and stores take a Clock; the pure core takes `now`/`today` as arguments.

`today()` is the calendar day at the site (the time zone in the settings): a plan signed at 23:30 in
Chicago is signed that day, not the next UTC day. `now()` is always an aware UTC datetime.

Tests and demos pin the day with `Clock.pinned(day)`: time still flows (sessions expire, tokens age),
but it starts at noon of that day, so "today" stays that day for the next twelve hours.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


class Clock:
    def __init__(self, time_zone: str = "UTC", *, offset: timedelta = timedelta(0)) -> None:
        self.zone = ZoneInfo(time_zone)
        self.offset = offset

    @classmethod
    def pinned(cls, day: date, time_zone: str = "UTC") -> Clock:
        """A clock whose `today()` is `day` (starting at noon there), ticking from the real time."""
        start = datetime.combine(day, time(12), tzinfo=ZoneInfo(time_zone))
        return cls(time_zone, offset=start - datetime.now(UTC))

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def today(self) -> date:
        return self.now().astimezone(self.zone).date()

    def timestamp(self) -> float:
        """Seconds since the epoch, for JWT `iat`/`exp`."""
        return self.now().timestamp()

    def local_date(self, moment: datetime) -> date:
        """The site's calendar day of an instant (naive instants are UTC, as the store keeps them)."""
        aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
        return aware.astimezone(self.zone).date()
