"""The holiday calendar the office keeps, and the deadlines computed from it.

Entering a year (from the State Council's notice) recomputes every provisional deadline: the
correction deadlines given to applicants (and their timers), the experts' review deadlines and
the end of notice periods counted in working days (and their timers). A recomputation never
shortens a deadline already given; each change is written to the audit trail.
"""

import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as SchemaError
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from .. import calendar
from ..models import Application, CalendarDay, CalendarYear, PanelSeat, PublicNotice
from ..programs import stage_by_key
from .audit import audit_write

MANAGE_CALENDAR = "workflows.manage_calendar"


# --- the file of a year ----------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class HolidayRange(_Model):
    name: Annotated[str, Field(min_length=1)]
    starts: date = Field(alias="from")
    ends: date = Field(alias="to")


class MakeUpDay(_Model):
    name: Annotated[str, Field(min_length=1)]
    date: date


class YearFile(_Model):
    year: Annotated[int, Field(ge=2000, le=2100)]
    source: Annotated[str, Field(min_length=4)]
    holidays: Annotated[list[HolidayRange], Field(min_length=1)]
    workdays: list[MakeUpDay] = []

    @model_validator(mode="after")
    def _inside_the_year(self):
        for item in self.holidays:
            if item.starts > item.ends:
                raise ValueError(
                    _("%(name)s：开始日期%(starts)s晚于结束日期%(ends)s")
                    % {"name": item.name, "starts": item.starts, "ends": item.ends}
                )
        days = [d for item in self.holidays for d in _days(item)] + [w.date for w in self.workdays]
        outside = sorted({d for d in days if d.year != self.year})
        if outside:
            raise ValueError(
                _("以下日期不在%(year)s年内：%(days)s")
                % {"year": self.year, "days": "、".join(d.isoformat() for d in outside)}
            )
        both = sorted(
            {w.date for w in self.workdays} & {d for i in self.holidays for d in _days(i)}
        )
        if both:
            raise ValueError(
                _("以下日期既是节假日又是调休上班日：%(days)s")
                % {"days": "、".join(d.isoformat() for d in both)}
            )
        return self


def _days(item: HolidayRange):
    day = item.starts
    while day <= item.ends:
        yield day
        day += timedelta(days=1)


def year_file_read(text: str) -> YearFile:
    """A year's arrangement from the file's text; ValidationError (in Chinese, naming what is
    wrong) when it cannot be read."""
    try:
        return YearFile.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as error:
        raise ValidationError(
            _("文件不是有效的TOML格式：%(error)s") % {"error": _toml_error_text(error)}
        ) from error
    except RecursionError as error:  # brackets nested thousands deep: not a calendar file
        raise ValidationError(_("文件不是有效的TOML格式：嵌套层次过深。")) from error
    except SchemaError as error:
        problems = [
            f"{'.'.join(str(part) for part in e['loc']) or _('文件')}：{_schema_message(e)}"
            for e in error.errors()
        ]
        raise ValidationError(
            [_("节假日安排文件有误：%(problem)s") % {"problem": p} for p in problems]
        ) from error


def _toml_error_text(error: tomllib.TOMLDecodeError) -> str:
    """Where the file stops being TOML, in the office's words (Python says it in English)."""
    at = re.search(r"at line (\d+), column (\d+)", str(error))
    if at:
        return _("第%(line)s行第%(column)s列有误") % {"line": at[1], "column": at[2]}
    return _("格式有误")


def _schema_message(error: dict) -> str:
    """One problem of the file, in Chinese (pydantic words its own in English)."""
    kind = error["type"]
    context = error.get("ctx") or {}
    if kind == "value_error":
        return str(context.get("error", error["msg"]))
    if kind == "missing":
        return _("缺少此项")
    if kind == "extra_forbidden":
        return _("不认识此项（可用：year、source、holidays、workdays、name、from、to、date）")
    if kind in ("greater_than_equal", "less_than_equal"):
        return _("应在2000至2100之间")
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return _("应为整数")
    if kind.startswith("date"):
        return _("应为日期，如2027-01-01")
    if kind in ("string_too_short", "too_short"):
        return _("不能为空")
    if kind in ("string_type",):
        return _("应为文字")
    if kind in ("list_type", "model_type", "dict_type"):
        return _("格式不对，请参照示例文件")
    return _("格式不对，请参照示例文件")


# --- entering a year, recomputing deadlines --------------------------------------------------


@dataclass
class Recomputed:
    what: str
    old: datetime
    computed: datetime
    given: datetime  # what the deadline is now: never earlier than `old`
    still_provisional: bool


def calendar_year_enter(*, user, arrangement: YearFile) -> tuple[CalendarYear, list[Recomputed]]:
    """Record a year's holidays and make-up working days (replacing an earlier entry of the same
    year) and recompute every provisional deadline."""
    if user is not None and not user.has_perm(MANAGE_CALENDAR):
        raise PermissionDenied
    with transaction.atomic():
        CalendarYear.objects.filter(year=arrangement.year).delete()
        year = CalendarYear.objects.create(
            year=arrangement.year, source=arrangement.source, entered_by=user
        )
        CalendarDay.objects.bulk_create(
            [
                CalendarDay(calendar_year=year, day=day, kind=CalendarDay.Kind.HOLIDAY, name=h.name)
                for h in arrangement.holidays
                for day in _days(h)
            ]
            + [
                CalendarDay(
                    calendar_year=year, day=w.date, kind=CalendarDay.Kind.WORKDAY, name=w.name
                )
                for w in arrangement.workdays
            ]
        )
        audit_write(
            actor=user,
            action="calendar_year_enter",
            data={
                "year": arrangement.year,
                "source": arrangement.source,
                "holidays": sum(len(list(_days(h))) for h in arrangement.holidays),
                "workdays": len(arrangement.workdays),
            },
        )
        calendar.years_forget()
        transaction.on_commit(calendar.years_forget)
        recomputed = deadlines_recompute(actor=user)
    return year, recomputed


def _later(old: datetime, deadline: calendar.Deadline) -> datetime:
    return max(old, deadline.at)


def _timers_move(process_id, old: datetime, new: datetime) -> None:
    """The process's timers set for the old deadline fire at the new one."""
    if new != old:
        Task.objects.filter(process_id=process_id, status=STATUS.SCHEDULED, scheduled=old).update(
            scheduled=new
        )


def deadlines_recompute(*, actor=None) -> list[Recomputed]:
    """Recompute every provisional deadline with the calendar as it is now."""
    done: list[Recomputed] = []
    for application in Application.objects.filter(
        correction_deadline_provisional=True, correction_started_at__isnull=False
    ).select_related("call"):
        old = application.correction_deadline
        deadline = calendar.working_days_until(
            application.correction_started_at, application.correction_days
        )
        application.correction_deadline = _later(old, deadline)
        application.correction_deadline_provisional = deadline.provisional
        application.save(update_fields=["correction_deadline", "correction_deadline_provisional"])
        _timers_move(application.process_id, old, application.correction_deadline)
        done.append(
            _recorded(
                actor, application, _("补正期限"), old, deadline, application.correction_deadline
            )
        )
    for seat in PanelSeat.objects.filter(due_provisional=True).select_related(
        "application__program_version", "application__call", "expert"
    ):
        old = seat.due_at
        days = (
            seat.due_days or stage_by_key(seat.application.program, seat.stage_key)["review_days"]
        )
        deadline = calendar.working_days_until(seat.drawn_at, days)
        seat.due_at = _later(old, deadline)
        seat.due_provisional = deadline.provisional
        seat.save(update_fields=["due_at", "due_provisional"])
        what = _("专家评审期限（%(expert)s）") % {"expert": seat.expert.name}
        done.append(_recorded(actor, seat.application, what, old, deadline, seat.due_at))
    for notice in PublicNotice.objects.filter(ends_provisional=True):
        old = notice.ends_at
        deadline = calendar.period_until(notice.starts_at, notice.days, notice.day_kind)
        notice.ends_at = _later(old, deadline)
        notice.ends_provisional = deadline.provisional
        notice.save(update_fields=["ends_at", "ends_provisional"])
        for application in notice.applications.all():
            _timers_move(application.process_id, old, notice.ends_at)
        audit_write(
            actor=actor,
            action="deadline_recompute",
            call=notice.call,
            data=_change(_("公示截止时间"), old, deadline, notice.ends_at),
        )
        done.append(
            Recomputed(_("公示截止时间"), old, deadline.at, notice.ends_at, deadline.provisional)
        )
    return done


def _change(what: str, old: datetime, deadline, given: datetime) -> dict:
    return {
        "what": what,
        "old": old.isoformat(),
        "computed": deadline.at.isoformat(),
        "given": given.isoformat(),
        "kept_later": given != deadline.at,
        "provisional": deadline.provisional,
    }


def _recorded(actor, application, what, old, deadline, given) -> Recomputed:
    reason = ""
    if given != deadline.at:
        reason = _("按录入的节假日安排重新计算为%(new)s，早于已告知的期限，仍以%(old)s为准。") % {
            "new": f"{timezone.localtime(deadline.at):%Y-%m-%d}",
            "old": f"{timezone.localtime(old):%Y-%m-%d}",
        }
    audit_write(
        actor=actor,
        action="deadline_recompute",
        application=application,
        reason=reason,
        data=_change(what, old, deadline, given),
    )
    return Recomputed(what, old, deadline.at, given, deadline.provisional)


def calendar_years_missing(*, today: date | None = None) -> list[int]:
    """The years staff must enter now: the next year from 1 October, and any year a provisional
    deadline reaches."""
    today = today or timezone.localdate()
    years = set()
    if (today.month, today.day) >= (10, 1):
        years.add(today.year + 1)
    for moment in [
        *Application.objects.filter(correction_deadline_provisional=True).values_list(
            "correction_deadline", flat=True
        ),
        *PanelSeat.objects.filter(due_provisional=True).values_list("due_at", flat=True),
        *PublicNotice.objects.filter(ends_provisional=True).values_list("ends_at", flat=True),
    ]:
        if moment is not None:
            years.add(timezone.localtime(moment).year)
    return sorted(year for year in years if calendar.year_missing(year))
