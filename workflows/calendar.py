"""Calendar and working-day arithmetic for deadlines and notice periods (Asia/Shanghai).

Working days skip statutory holidays and count make-up working days (调休), from the office's own
holiday calendar (`CalendarYear`, `CalendarDay`): seeded from the maintained `chinese_calendar`
library for the years it knows, and entered by staff for each new year from the State Council's
notice (`calendar_year_enter`). A computation that reaches a year not entered yet counts Monday to
Friday there and says so: its `Deadline` is provisional (暂定), and entering the year recomputes
it (services.deadlines), never to an earlier date than the applicant was given.
"""

import time as clock
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

# Seconds a process keeps a year it read; entering a year clears it at once in that process.
CACHE_SECONDS = 300
_years: dict[int, tuple[float, "YearDays | None"]] = {}


@dataclass(frozen=True)
class YearDays:
    holidays: frozenset
    workdays: frozenset


@dataclass(frozen=True)
class Deadline:
    """When a period ends, and the years it reached whose holidays were not entered (then it is
    provisional: Monday to Friday were counted there)."""

    at: datetime
    missing_years: tuple[int, ...] = field(default=())

    @property
    def provisional(self) -> bool:
        return bool(self.missing_years)

    @property
    def reason(self) -> str:
        return provisional_reason(self.missing_years)


def provisional_reason(years) -> str:
    if not years:
        return ""
    # "2027年、2028年" in Chinese, "2027, 2028" in English.
    listed = _("、").join(_("%(year)s年") % {"year": year} for year in years)
    return _(
        "%(years)s的法定节假日安排尚未录入，期限暂按周一至周五为工作日计算；录入后将重新计算，"
        "重新计算不会使期限提前。"
    ) % {"years": listed}


def year_days(year: int) -> YearDays | None:
    """The year's holidays and make-up working days, or None when the year is not entered."""
    cached = _years.get(year)
    now = clock.monotonic()
    if cached is not None and now - cached[0] < CACHE_SECONDS:
        return cached[1]
    from .models import CalendarDay, CalendarYear

    found = None
    if CalendarYear.objects.filter(year=year).exists():
        rows = CalendarDay.objects.filter(calendar_year__year=year).values_list("day", "kind")
        found = YearDays(
            holidays=frozenset(day for day, kind in rows if kind == CalendarDay.Kind.HOLIDAY),
            workdays=frozenset(day for day, kind in rows if kind == CalendarDay.Kind.WORKDAY),
        )
    _years[year] = (now, found)
    return found


def years_forget() -> None:
    """Read the calendar again (after a year was entered)."""
    _years.clear()


def is_working_day(day: date) -> bool:
    known = year_days(day.year)
    if known is None:
        return day.weekday() < 5
    if day in known.workdays:
        return True
    return day.weekday() < 5 and day not in known.holidays


def end_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(23, 59, 59)))


def working_days_until(start: datetime, days: int) -> Deadline:
    """The end of the `days`-th working day after `start`'s local date."""
    day = timezone.localtime(start).date()
    counted = 0
    missing: set[int] = set()
    while counted < days:
        day += timedelta(days=1)
        if year_days(day.year) is None:
            missing.add(day.year)
        if is_working_day(day):
            counted += 1
    return Deadline(end_of_day(day), tuple(sorted(missing)))


def working_days_after(start: datetime, days: int) -> datetime:
    return working_days_until(start, days).at


def period_until(start: datetime, days: int, day_kind: str) -> Deadline:
    """End of a notice period: `days` calendar days (the start day counts as the first day;
    never provisional) or `days` working days after the start."""
    if day_kind == "working":
        return working_days_until(start, days)
    return Deadline(end_of_day(timezone.localtime(start).date() + timedelta(days=days - 1)))


def period_end(start: datetime, days: int, day_kind: str) -> datetime:
    return period_until(start, days, day_kind).at


def year_missing(year: int) -> bool:
    return year_days(year) is None


def working_days_left(due: datetime, today: date | None = None) -> int:
    """Working days an officer or applicant still has until `due`, today included when today is
    a working day: 1 on the last day, 0 when only non-working days remain, and negative when
    the deadline has passed (-2: two working days overdue)."""
    today = today or timezone.localdate()
    last = timezone.localtime(due).date()
    if last >= today:
        span = (last - today).days + 1
        return sum(is_working_day(today + timedelta(days=n)) for n in range(span))
    span = (today - last).days
    return -sum(is_working_day(last + timedelta(days=n)) for n in range(1, span + 1))
