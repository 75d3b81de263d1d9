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
