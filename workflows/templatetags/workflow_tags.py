"""Template filters for workflow pages."""

from django import template

register = template.Library()


@register.filter
def task_label(task) -> str:
    """The task's title as its stage annotates it (e.g. 形式审查)."""
    return str(task.flow_task.task_title) if task.flow_task else ""


@register.filter
def money(value) -> str:
    return "" if value is None else f"¥{value:,.2f}"


@register.filter
def provisional_reason(moment) -> str:
    """Why a deadline ending at `moment` is provisional: the years up to it whose holidays are
    not entered."""
    from django.utils import timezone

    from .. import calendar

    if moment is None:
        return ""
    end = timezone.localtime(moment).year
    start = min(timezone.localdate().year, end)
    return calendar.provisional_reason(
        [year for year in range(start, end + 1) if calendar.year_missing(year)]
    )


@register.filter
def abs_value(number) -> int:
    return abs(number or 0)
