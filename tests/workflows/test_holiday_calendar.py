"""The holiday calendar is data the office keeps: years seeded from the maintained library, a
year entered from the State Council's notice, and deadlines that reach a year not entered yet
marked 暂定 until it is, then recomputed (never earlier than the date given). Tested across
2026 → 2027 with a 2027 arrangement made up for the test (the project ships no guessed 2027)."""

import html
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from tests.factories import CallFactory
from tests.programs_support import program_installed, program_text
from workflows import calendar, demo, programs
from workflows.checks import holiday_calendar_check
from workflows.models import AuditRecord, CalendarYear, PanelSeat
from workflows.services.deadlines import calendar_year_enter, year_file_read
from workflows.stages.formal_review.services import formal_review_complete
from workflows.stages.leadership_meeting.services import leadership_decide
from workflows.stages.public_notice.services import public_notice_publish

pytestmark = pytest.mark.django_db

BEIJING = ZoneInfo("Asia/Shanghai")
# Test data only: a 2027 arrangement made up for these tests, not the real one.
YEAR_2027 = """
year = 2027
source = "测试用2027年节假日安排（非真实安排）"

[[holidays]]
name = "元旦"
from = 2027-01-01
to = 2027-01-03

[[workdays]]
name = "调休"
date = 2027-01-09
"""


def at(*parts) -> datetime:
    return datetime(*parts, tzinfo=BEIJING)


@pytest.fixture(autouse=True)
def fresh_calendar():
    calendar.years_forget()
    yield
    calendar.years_forget()


def today_is(monkeypatch, moment: datetime) -> None:
    monkeypatch.setattr(timezone, "now", lambda: moment)


def test_the_years_the_library_knows_are_seeded_and_no_other():
    years = set(CalendarYear.objects.values_list("year", flat=True))
    assert {2004, 2025, 2026} <= years and 2027 not in years
    assert not calendar.is_working_day(date(2026, 2, 17))  # 春节
    assert calendar.is_working_day(date(2026, 2, 28))  # a Saturday worked (调休)
    assert CalendarYear.objects.get(year=2026).days.get(day=date(2026, 10, 1)).name == "国庆节"


def test_a_period_reaching_a_year_not_entered_is_provisional_and_says_why():
    inside = calendar.working_days_until(at(2026, 3, 2, 9), 5)
    assert not inside.provisional and inside.at.date() == date(2026, 3, 9)
    across = calendar.working_days_until(at(2026, 12, 28, 10), 5)
    assert across.provisional and across.missing_years == (2027,)
    assert across.at.date() == date(2027, 1, 4)  # Monday to Friday counted in 2027
    assert "2027年的法定节假日安排尚未录入" in across.reason
    with translation.override("en"):
        assert across.reason.startswith("The statutory holidays of 2027 are not entered yet")
    assert not calendar.period_until(at(2026, 12, 28, 10), 7, "calendar").provisional


@pytest.fixture
def programs_with_a_working_day_notice(tmp_path, monkeypatch, settings):
    slug = "leadership_before_panel"
    program_installed(tmp_path, monkeypatch, settings, {slug: program_text(slug)})
    yield slug
    programs.programs_loaded.cache_clear()


def test_deadlines_across_the_new_year_are_provisional_until_2027_is_entered(
    monkeypatch, client_for, programs_with_a_working_day_notice
):
    """A correction, the experts' review deadlines and a notice in working days, all computed
    on 28 December 2026, reach 2027: marked 暂定 to the applicant and staff, staff are told, and
    entering 2027 recomputes each (the timers with them), writing the change to the audit trail;
    a deadline the new calendar would bring forward keeps the date given."""
    today_is(monkeypatch, at(2026, 12, 28, 10))
    cast = demo.cast_make(expert_count=6)
    grant_call = CallFactory(designation_to=date(2026, 12, 28))
    returned = demo.application_submitted(cast=cast, call=grant_call, serial=2701)
    formal_review_complete(
        user=cast.formal_reviewer, application=returned, outcome="correction", reason="补充材料。"
    )
    returned.refresh_from_db()
    assert returned.correction_deadline_provisional
    assert returned.correction_deadline == at(2027, 1, 4, 23, 59, 59)

    centre_call = CallFactory(program_slug="leadership_before_panel")
    centre = demo.institution_make(user=cast.applicant, serial=2702)
    centre_app = demo.application_draft(user=cast.applicant, call=centre_call, institution=centre)
    from workflows import services

    services.application_submit(user=cast.applicant, application=centre_app)
    formal_review_complete(user=cast.formal_reviewer, application=centre_app, outcome="accept")
    from workflows.stages.city_recommendation.services import recommendation_decide

    recommendation_decide(
        user=cast.city_offices["5201"], application=centre_app, recommended=True, reason=""
    )
    leadership_decide(user=cast.leadership, decisions=[(centre_app, True, "")])
    seats = list(PanelSeat.objects.filter(application=centre_app))
    assert len(seats) == 3 and all(s.due_provisional for s in seats)
    assert {s.due_at for s in seats} == {at(2027, 1, 11, 23, 59, 59)}  # 10 days, Mon–Fri

    # What the applicant and the staff see, and what staff are told.
    page = html.unescape(
        client_for(cast.applicant)
        .get(reverse("application_detail", args=[returned.pk]))
        .content.decode()
    )
    assert "2027年1月4日 23:59" in page and "（暂定）" in page
    assert "2027年的法定节假日安排尚未录入" in page
    home = html.unescape(client_for(cast.formal_reviewer).get(reverse("home")).content.decode())
    assert "请录入法定节假日安排" in home and "2027年的法定节假日安排尚未录入" in home
    assert [w.id for w in holiday_calendar_check(None)] == ["workflows.W003"]

    # A notice in working days published the same day.
    from tests.workflows.competitive_steps import panel_scored

    panel_scored(centre_app, ["50", "30"])
    notice = public_notice_publish(user=cast.notice_officer, call=centre_call)
    assert notice.ends_provisional and notice.ends_at == at(2027, 1, 4, 23, 59, 59)

    # On 5 January 2027 a correction is returned: Monday to Friday gives 12 January.
    today_is(monkeypatch, at(2027, 1, 5, 10))
    second = demo.application_submitted(cast=cast, call=grant_call, serial=2703)
    formal_review_complete(
        user=cast.formal_reviewer, application=second, outcome="correction", reason="补充材料。"
    )
    second.refresh_from_db()
    assert second.correction_deadline == at(2027, 1, 12, 23, 59, 59)

    # 2027 is entered on the staff page.
    response = client_for(cast.notice_officer).post(
        reverse("holiday_calendar"), {"arrangement": YEAR_2027}, follow=True
    )
    assert response.status_code == 200
    assert "2027年节假日安排已录入，6个暂定期限已重新计算。" in response.content.decode()

    returned.refresh_from_db()
    second.refresh_from_db()
    notice.refresh_from_db()
    # 元旦 1–3 January pushes the first correction to 5 January, and its timer with it.
    assert returned.correction_deadline == at(2027, 1, 5, 23, 59, 59)
    assert not returned.correction_deadline_provisional
    timers = Task.objects.filter(process_id=returned.process_id, status=STATUS.SCHEDULED)
    assert [t.scheduled for t in timers] == [returned.correction_deadline]
    # The worked Saturday would bring the second one forward to 11 January: it keeps 12 January.
    assert second.correction_deadline == at(2027, 1, 12, 23, 59, 59)
    kept = AuditRecord.objects.get(application=second, action="deadline_recompute")
    assert kept.data["kept_later"] and "仍以2027-01-12为准" in kept.reason
    # The notice now ends on 5 January; its applicants' timers follow.
    assert notice.ends_at == at(2027, 1, 5, 23, 59, 59) and not notice.ends_provisional
    notice_timers = Task.objects.filter(process_id=centre_app.process_id, status=STATUS.SCHEDULED)
    assert [t.scheduled for t in notice_timers] == [notice.ends_at]
    # The experts' deadlines: 10 working days from 28 December, 1 January off and 9 January
    # worked: still 11 January, no longer provisional.
    experts = PanelSeat.objects.filter(application=centre_app)
    assert {(s.due_at, s.due_provisional) for s in experts} == {
        (at(2027, 1, 11, 23, 59, 59), False)
    }
    changes = AuditRecord.objects.filter(action="deadline_recompute")
    assert changes.count() == 6  # two corrections, three experts' deadlines, the notice
    first = changes.get(application=returned)
    assert first.data["old"].startswith("2027-01-04") and first.data["given"].startswith(
        "2027-01-05"
    )
    assert holiday_calendar_check(None) == []
    home = html.unescape(client_for(cast.formal_reviewer).get(reverse("home")).content.decode())
    assert "请录入法定节假日安排" not in home


def test_entering_a_year_from_a_file_with_the_command(tmp_path):
    path = tmp_path / "2027.toml"
    path.write_text(YEAR_2027, encoding="utf-8")
    call_command("calendar_year_enter", str(path))
    assert CalendarYear.objects.get(year=2027).days.count() == 4
    assert not calendar.is_working_day(date(2027, 1, 1))
    assert calendar.is_working_day(date(2027, 1, 9))


@pytest.mark.parametrize(
    "text, words",
    [
        (YEAR_2027.replace("2027-01-09", "2028-01-09"), "以下日期不在2027年内：2028-01-09"),
        (YEAR_2027.replace('name = "调休"\n', ""), "workdays.0.name：缺少此项"),
        ("year = 2027\n", "source：缺少此项"),
        (YEAR_2027.replace("year = 2027", "year = 2300"), "year：应在2000至2100之间"),
        (YEAR_2027.replace("2027-01-09", "一月九日"), "不是有效的TOML格式：第"),
        ("year = ", "不是有效的TOML格式"),
        # Brackets nested thousands deep once ended in a RecursionError (a 500 on the page).
        ("a = " + "[" * 5000 + "]" * 5000, "嵌套层次过深"),
    ],
)
def test_a_wrong_file_is_refused_in_chinese_and_changes_nothing(text, words):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        calendar_year_enter(user=None, arrangement=year_file_read(text))
    assert any(words in message for message in error.value.messages), error.value.messages
    said = " ".join(error.value.messages)
    for english in ("Input should", "Field required", "Value error", "Invalid", "at line"):
        assert english not in said, said
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_only_the_calendar_role_enters_a_year(client_for, applicant, leadership):
    assert client_for(applicant).get(reverse("holiday_calendar")).status_code == 403
    page = client_for(leadership).get(reverse("holiday_calendar"))
    assert page.status_code == 200 and "录入并重新计算暂定期限" not in page.content.decode()
    response = client_for(leadership).post(reverse("holiday_calendar"), {"arrangement": YEAR_2027})
    assert response.status_code == 403
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_the_missing_year_warning_starts_on_1_october(monkeypatch):
    today_is(monkeypatch, at(2026, 9, 30, 12))
    assert holiday_calendar_check(None) == []
    today_is(monkeypatch, at(2026, 10, 1, 9))
    (warning,) = holiday_calendar_check(None)
    assert warning.id == "workflows.W003" and "2027" in warning.msg
    calendar_year_enter(user=None, arrangement=year_file_read(YEAR_2027))
    assert holiday_calendar_check(None) == []
