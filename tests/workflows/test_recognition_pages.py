"""Recognition validity pages: staff see which recognitions expire soon and which have expired;
applicants and anonymous visitors do not."""

import html
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import institution_for
from workflows.demo import application_draft
from workflows.models import Application

Status = Application.Status


@pytest.fixture
def recognitions(applicant, call):
    """{label: application}: decided/paid applications with validity dates around today, plus
    two that are not recognitions (not decided; no validity date)."""
    today = timezone.localdate()
    plan = {
        "soon": (Status.DECIDED, today + timedelta(days=30)),
        "today": (Status.PAID, today),
        "later": (Status.PAID, today + timedelta(days=120)),
        "expired": (Status.PAID, today - timedelta(days=1)),
        "undecided": (Status.APPROVED, today + timedelta(days=10)),
        "no_expiry": (Status.PAID, None),
    }
    made = {}
    for label, (status, valid_until) in plan.items():
        institution = institution_for(applicant, name=f"贵州认定测试企业{label}")
        application = application_draft(user=applicant, call=call, institution=institution)
        # Set-up only: status changes normally go through services.application_move.
        Application.objects.filter(pk=application.pk).update(status=status, valid_until=valid_until)
        made[label] = application
    return made


def page(client, name: str, **params) -> str:
    response = client.get(reverse(name), params)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def rows_of(text: str, recognitions: dict) -> dict[str, str]:
    """{label: the table row naming that application}."""
    return {
        label: row
        for row in text.split("<tr>")
        for label in recognitions
        if f"贵州认定测试企业{label}<" in row
    }


def names(text: str, recognitions: dict) -> set[str]:
    return set(rows_of(text, recognitions))


@pytest.mark.parametrize("name", ["recognition_expiring", "recognition_list"])
def test_anonymous_visitors_are_sent_to_log_in(client, name):
    response = client.get(reverse(name))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("name", ["recognition_expiring", "recognition_list"])
def test_applicants_and_city_offices_are_refused(client_for, applicant, city_office, name):
    for user in (applicant, city_office):
        assert client_for(user).get(reverse(name)).status_code == 403


def test_expiring_shows_recognitions_ending_within_90_days_by_default(
    client_for, formal_reviewer, recognitions
):
    text = page(client_for(formal_reviewer), "recognition_expiring")

    assert names(text, recognitions) == {"soon", "today"}
    assert "自今天起90天内到期的认定共2项。" in text
    soon = rows_of(text, recognitions)["soon"]
    ends = timezone.localdate() + timedelta(days=30)
    assert f"<td>{ends.year}年{ends.month}月{ends.day}日</td>" in soon
    assert "<td>30</td>" in soon  # days left


def test_expiring_follows_the_days_asked_for(client_for, notice_officer, recognitions):
    browser = client_for(notice_officer)

    assert names(page(browser, "recognition_expiring", days=150), recognitions) == {
        "soon",
        "today",
        "later",
    }
    assert names(page(browser, "recognition_expiring", days=1), recognitions) == {"today"}


@pytest.mark.parametrize("days", ["abc", "0", "-5", "3651", "1.5"])
def test_a_bad_number_of_days_is_explained_in_chinese(client_for, leadership, recognitions, days):
    text = page(client_for(leadership), "recognition_expiring", days=days)

    assert "天数须为1至3650之间的整数。" in text
    assert names(text, recognitions) == set()


def test_full_list_marks_expired_recognitions(client_for, finance_officer, recognitions):
    text = page(client_for(finance_officer), "recognition_list")

    assert names(text, recognitions) == {"soon", "today", "later", "expired"}
    rows = rows_of(text, recognitions)
    assert "已过期" in rows["expired"]
    for label in ("soon", "today", "later"):
        assert "已过期" not in rows[label]
        assert "有效" in rows[label]


def test_pages_cost_the_same_queries_for_many_recognitions(
    client_for, formal_reviewer, recognitions, django_assert_max_num_queries
):
    browser = client_for(formal_reviewer)
    browser.get(reverse("recognition_list"))  # warm the session and permission caches
    with django_assert_max_num_queries(8):
        page(browser, "recognition_list")
    with django_assert_max_num_queries(8):
        page(browser, "recognition_expiring", days=3650)
