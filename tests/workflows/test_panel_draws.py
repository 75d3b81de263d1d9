"""Every expert draw is on the record so that staff and inspectors can replay it from the panel
page: the pool, each expert left out and why (employer, declared relation, recusal, lateness),
the candidates, the seed and the order drawn; replacements are recorded the same way."""

import html
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import CallFactory, UserFactory
from tests.programs_support import program_installed
from tests.workflows.test_expert_review import PANEL_PROGRAM, SLUG, accepted
from workflows import programs
from workflows.models import Expert, ExpertRelation, PanelDraw, PanelSeat
from workflows.stages.expert_review import services as panels
from workflows.stages.expert_review.draw import draw_replay

pytestmark = pytest.mark.django_db


@pytest.fixture
def panel_call(tmp_path, monkeypatch, settings):
    program_installed(tmp_path, monkeypatch, settings, {SLUG: PANEL_PROGRAM})
    yield CallFactory(program_slug=SLUG)
    programs.programs_loaded.cache_clear()


@pytest.fixture
def pool(experts, institution):
    """Seven experts in the pool, one employed by the applicant and one who declared a
    collaboration with it: five may sit."""
    employee = experts[5]
    employee.employer = institution
    employee.save()
    ExpertRelation.objects.create(expert=experts[6], institution=institution, kind="collaboration")
    return experts


def panel_page(client, application) -> str:
    response = client.get(reverse("panel_detail", args=[application.pk]))
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_the_draw_is_recorded_with_every_exclusion_and_replays(
    pool,
    panel_call,
    applicant,
    institution,
    formal_reviewer,
    client_for,
):
    application = accepted(applicant, institution, panel_call, formal_reviewer)
    (draw,) = application.draws.all()
    assert draw.kind == PanelDraw.Kind.PANEL and draw.size == 5
    assert draw.pool == sorted(e.pk for e in Expert.objects.all())
    reasons = {row["expert"]: row["reason"] for row in draw.excluded}
    assert reasons == {pool[5].pk: "employer", pool[6].pk: "relation"}
    assert sorted(draw.drawn) == sorted(draw.candidates) and len(draw.drawn) == 5
    assert draw_replay(draw) == draw.drawn
    assert [s.expert_id for s in application.seats.order_by("pk")] == draw.drawn

    page = panel_page(client_for(formal_reviewer), application)
    assert draw.seed in page
    assert f"{pool[5].name}（#{pool[5].pk}）：工作单位为申报单位" in page
    assert f"{pool[6].name}（#{pool[6].pk}）：已声明与申报单位存在利害关系：近三年合作关系" in page
    assert "一致：以记录的种子重新抽取，得到相同的专家和顺序。" in page
    first = Expert.objects.get(pk=draw.drawn[0])
    assert f"1. {first.name}（#{first.pk}）" in page


def test_a_recusal_and_a_late_expert_draw_replacements_on_the_record(
    experts,
    panel_call,
    applicant,
    institution,
    formal_reviewer,
    client_for,
):
    UserFactory(username="expert8", role="expert")
    Expert.objects.create(user=UserFactory(username="expert9", role="expert"), name="专家9")
    extra = Expert.objects.create(
        user=UserFactory(username="expert10", role="expert"), name="专家10"
    )
    application = accepted(applicant, institution, panel_call, formal_reviewer)
    recusing, late = application.seats.select_related("expert__user").order_by("pk")[:2]
    panels.seat_declare(
        user=recusing.expert.user, seat=recusing, conflict=True, reason="亲属任职。"
    )
    PanelSeat.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(days=1))
    panels.seat_replace(user=formal_reviewer, seat=PanelSeat.objects.get(pk=late.pk))

    panel_draw, recusal_draw, late_draw = application.draws.order_by("pk")
    assert recusal_draw.kind == late_draw.kind == PanelDraw.Kind.REPLACEMENT
    assert recusal_draw.replaces_id == recusing.pk and late_draw.replaces_id == late.pk
    assert {"expert": recusing.expert_id, "reason": "recused", "detail": ""} in late_draw.excluded
    assert {"expert": late.expert_id, "reason": "late", "detail": ""} in late_draw.excluded
    assert len(late_draw.drawn) == 1 and draw_replay(late_draw) == late_draw.drawn
    assert late_draw.actor == formal_reviewer
    assert extra.pk in panel_draw.candidates

    page = panel_page(client_for(formal_reviewer), application)
    assert page.count("替换回避或逾期专家") == 2
    assert "曾对本申报申请回避" in page and "曾因逾期未评审被替换" in page


def test_a_record_changed_afterwards_no_longer_replays(
    experts,
    panel_call,
    applicant,
    institution,
    formal_reviewer,
    client_for,
):
    application = accepted(applicant, institution, panel_call, formal_reviewer)
    draw = application.draws.get()
    PanelDraw.objects.filter(pk=draw.pk).update(drawn=list(reversed(draw.drawn)))
    assert "不一致：记录可能被改动，请核查。" in panel_page(
        client_for(formal_reviewer), application
    )


def test_the_panel_page_of_a_program_without_experts_is_not_found(client_for, formal_reviewer):
    from workflows import demo

    cast = demo.cast_make()
    call = CallFactory()
    application = demo.application_submitted(cast=cast, call=call, serial=4711)
    response = client_for(formal_reviewer).get(reverse("panel_detail", args=[application.pk]))
    assert response.status_code == 404
