"""India's date, not the server's: between 00:00 and 05:30 IST the UTC date is still
yesterday, and "today" in a form or on a desk must be India's."""

from datetime import date, datetime, timezone

import pytest

from service_catalogue.india_time import today_in_india


@pytest.mark.parametrize(
    "utc, india",
    [
        (datetime(2026, 12, 31, 18, 29, tzinfo=timezone.utc), date(2026, 12, 31)),  # 23:59 IST
        (datetime(2026, 12, 31, 18, 30, tzinfo=timezone.utc), date(2027, 1, 1)),  # 00:00 IST
        (datetime(2026, 12, 6, 22, 45, tzinfo=timezone.utc), date(2026, 12, 7)),  # 04:15 IST
        (datetime(2027, 2, 28, 20, 0, tzinfo=timezone.utc), date(2027, 3, 1)),  # 01:30 IST
        (datetime(2026, 6, 15, 0, 0), date(2026, 6, 15)),  # naive means UTC: 05:30 IST
    ],
)
def test_india_date_at_the_day_boundary(utc: datetime, india: date) -> None:
    assert today_in_india(utc) == india
