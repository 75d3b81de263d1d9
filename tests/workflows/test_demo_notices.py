"""The demo data (`manage.py demo_batch`) rehearses every program, letting a notice's timer fire at
once: its public notices must not read as open, inviting objections the system then refuses,
once their applications have moved on."""

import pytest
from django.urls import reverse

from tests.factories import CallFactory
from workflows.demo import application_in_notice, cast_make
from workflows.management.commands.demo_batch import _notice_periods_closed
from workflows.models import Application, NoticePeriodChange

pytestmark = pytest.mark.django_db


def test_a_demo_notice_whose_list_has_moved_on_is_ended_on_the_record(client):
    cast = cast_make()
    application, notice = application_in_notice(cast=cast, call=CallFactory(), serial=81)
    still_open, other_notice = application_in_notice(cast=cast, call=CallFactory(), serial=82)
    Application.objects.filter(pk=application.pk).update(status=Application.Status.DECIDED)

    _notice_periods_closed([notice.call_id, other_notice.call_id], cast.notice_officer)

    notice.refresh_from_db()
    other_notice.refresh_from_db()
    assert not notice.is_open() and other_notice.is_open()
    change = NoticePeriodChange.objects.get(notice=notice)
    assert change.kind == NoticePeriodChange.Kind.END_EARLY and change.new_ends_at == notice.ends_at
    page = client.get(reverse("notice_detail", args=[notice.pk])).content.decode()
    assert reverse("objection_lodge", args=[notice.pk, application.pk]) not in page
    assert "原截止时间" in page


def test_a_period_change_reads_in_english_with_english_punctuation(client):
    cast = cast_make()
    application, notice = application_in_notice(cast=cast, call=CallFactory(), serial=83)
    Application.objects.filter(pk=application.pk).update(status=Application.Status.DECIDED)
    _notice_periods_closed([notice.call_id], cast.notice_officer)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("notice_detail", args=[notice.pk])).content.decode()
    changes = page[page.index('<ul class="period-changes">') :].split("</ul>")[0]
    assert "Original deadline" in changes
    assert not set("：；（）") & set(changes.replace(notice_reason(), ""))


def notice_reason() -> str:
    """The reason the demo gives, in Chinese whatever the reader's language (it was typed so)."""
    return "演示数据：名单上的申报均已办结，公示期提前结束。"
