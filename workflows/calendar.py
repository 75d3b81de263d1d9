"""Calendar and working-day arithmetic for deadlines and notice periods (Asia/Shanghai).

Working days skip Chinese statutory holidays and count make-up working weekends (调休), through
the maintained `chinese_calendar` library. For a year the library does not cover yet (the State
Council publishes each year's arrangement late in the year before), Monday to Friday are taken as
working days and a warning is logged.
"""

import logging
from datetime import date, datetime, time, timedelta

import chinese_calendar
from django.utils import timezone

logger = logging.getLogger(__name__)


def is_working_day(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        logger.warning("No official holiday data for %s; counting Monday–Friday.", day.year)
        return day.weekday() < 5


def end_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(23, 59, 59)))


def working_days_after(start: datetime, days: int) -> datetime:
    """The end of the `days`-th working day after `start`'s local date."""
    day = timezone.localtime(start).date()
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return end_of_day(day)


def period_end(start: datetime, days: int, day_kind: str) -> datetime:
    """End of a notice period: `days` calendar days (the start day counts as the first day) or
    `days` working days after the start."""
    if day_kind == "working":
        return working_days_after(start, days)
    return end_of_day(timezone.localtime(start).date() + timedelta(days=days - 1))
