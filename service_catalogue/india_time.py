"""India's calendar: every date a citizen or an officer sees is India's date.

India Standard Time is UTC+05:30 all year (no daylight saving). Between 00:00 and
05:30 IST the UTC date is still yesterday, so ``date.today()`` on a UTC server gives
the wrong day for "today", "overdue" and "date of birth cannot be in the future".
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

IST = timezone(timedelta(hours=5, minutes=30), "IST")


def today_in_india(now: datetime | None = None) -> date:
    """India's date at ``now`` (default: this moment)."""
    moment = now or datetime.now(timezone.utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(IST).date()
