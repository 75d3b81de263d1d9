"""Template filters for workflow pages."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def input_kept(context, form_key, *key_parts) -> dict:
    """`{% input_kept "document_void" d.pk as kept %}…value="{{ kept.reason }}"`: what was
    typed into that form before its action was refused (workflows.views.base.input_keep)."""
    from ..views.base import input_kept as kept

    request = context.get("request")
    if request is None or not hasattr(request, "session"):
        return {}
    return kept(request, form_key, *key_parts)


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


@register.simple_tag
def colon() -> str:
    """The colon after a label: full-width in Chinese (状态：), ": " in English."""
    from django.utils.translation import pgettext

    return pgettext("punctuation", "：")


@register.filter
def abs_value(number) -> int:
    return abs(number or 0)


@register.inclusion_tag("workflows/_application_fields.html")
def application_fields(application, without_payment=False, without_contact=False):
    """The application's fields as <dt>/<dd> pairs, in the program file's order with its labels
    (bank details left out for readers who have no use for them, such as experts and city
    offices; the contact person and phone left out for experts)."""
    from ..facts import field_rows
    from ..programs import CONTACT_FIELDS, PAYMENT_FIELDS

    leave_out = (PAYMENT_FIELDS if without_payment else ()) + (
        CONTACT_FIELDS if without_contact else ()
    )
    return {"rows": field_rows(application, leave_out=leave_out)}


@register.inclusion_tag("workflows/_application_attachments.html")
def application_attachments(application, attachments=None):
    """The attachments under the program file's attachment types, in its order."""
    from ..facts import attachment_rows

    return {"rows": attachment_rows(application, attachments)}


@register.inclusion_tag("workflows/_correction_changes.html")
def correction_changes(application):
    """The earlier correction request and what changed since (for the reviewer)."""
    from ..facts import correction_changes as changes

    return {"changes": changes(application), "application": application}


@register.filter
def chinese_date(value) -> str:
    """2026年3月5日 (empty stays empty)."""
    from ..facts import chinese_date as written

    return written(value) if value else ""


@register.filter
def region_name(code) -> str:
    """A GB/T 2260 region code with its name: 贵阳市南明区（520102）."""
    from forms.regions import region_names

    name = region_names().get(code or "")
    return f"{name}（{code}）" if name else (code or "—")


@register.filter
def program_pays(slug: str) -> bool:
    """Whether the program of `slug` pays money (a disbursement stage): pages show no budget for
    one that does not."""
    from ..programs import program_pays as pays

    return pays(slug)


@register.filter
def has_stage(slug: str, stage_type: str) -> bool:
    """Whether the program of `slug` has a stage of `stage_type`."""
    from ..programs import program_has_stage

    return program_has_stage(slug, stage_type)


@register.filter
def program_title(slug: str) -> str:
    """A program's title in the reader's language, from its file (the slug when none is loaded)."""
    from ..programs import localised, programs_loaded

    program = programs_loaded().get(slug)
    return localised(program.content["title"]) if program else slug


@register.simple_tag(takes_context=True)
def objector_id_number(context, objection) -> str:
    """The objector's ID number in full for the officer handling the objection, masked
    (`5201**********1234`) for everyone else (workflows.personal_data)."""
    from ..personal_data import objector_id_number as shown

    request = context.get("request")
    return shown(request.user if request else None, objection)
