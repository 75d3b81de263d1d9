"""Every user step of the two competitive programs (知识产权优势企业认定 and 专利奖), performed
through Django's HTTP test client, one logged-in browser per person.

The steps the grant shares with these programs (formal review, leadership meeting, call
management, objections, finance, reading pages and PDFs) come from `http_steps`; this module adds
the steps only competitive programs have: the program's own application form (fields and
attachments read from the page the program file renders), the city office's recommendation, the
experts' declaration and scoring, the panel manager's replacement of a late expert, and the award
committee's vote. As there, helpers only fail when a step cannot be taken at all; what the user
should see is asserted in the tests.
"""

import re
from types import SimpleNamespace

from django.test import Client
from django.urls import resolve, reverse

from tests.workflows import http_steps as steps
from workflows.demo import MINIMAL_PDF, Cast
from workflows.models import Application, Call, Institution, PanelSeat

Seat = PanelSeat.Status


# --- browsers ------------------------------------------------------------------------------------


def browser(user) -> Client:
    """A browser in which `user` is logged in."""
    client = Client()
    client.force_login(user)
    return client


def browsers(cast: Cast) -> SimpleNamespace:
    """One logged-in browser per role of the demo cast; `cities` by region prefix ("5201"…)."""
    return SimpleNamespace(
        applicant=browser(cast.applicant),
        reviewer=browser(cast.formal_reviewer),
        leader=browser(cast.leadership),
        notice=browser(cast.notice_officer),
        finance=browser(cast.finance_officer),
        committee=browser(cast.award_committee),
        cities={prefix: browser(user) for prefix, user in cast.city_offices.items()},
    )


def city_browser(clients: SimpleNamespace, institution: Institution) -> Client:
    """The browser of the city office of the institution's region."""
    return clients.cities[institution.region_code[:4]]


# --- the applicant ------------------------------------------------------------------------------


def enterprise_fields(**overrides) -> dict:
    """What an enterprise types into the 知识产权优势企业认定 form (the declaration ticked)."""
    return {
        "contact_name": "张敏",
        "contact_phone": "0851-85550000",
        "main_products": "工业级无人机飞控系统，属高端装备制造产业。",
        "no_serious_dishonesty": "on",
    } | overrides


def award_fields(*, patent_number: str, patent_title: str, account_name: str, **overrides) -> dict:
    """What a patentee types into the 专利奖 form (both declarations ticked)."""
    return {
        "patent_number": patent_number,
        "patent_title": patent_title,
        "patent_valid": "on",
        "patentees_agree": "on",
        "bank_name": "中国工商银行贵阳分行",
        "account_name": account_name,
        "bank_account": "2402 0012 0900 1234 567",
        "contact_name": "李强",
        "contact_phone": "0851-86660000",
    } | overrides


def file_inputs(response) -> list[str]:
    """The names of the form's file inputs (one per attachment the program file asks for)."""
    return re.findall(r'<input type="file" name="([^"]+)"', steps.page(response))


def draft_create(client: Client, call: Call, institution: Institution, fields: dict):
    """Open the call's form for `institution`, type `fields`, attach a PDF to every file input
    the page shows, press 保存草稿 (multipart). Returns (application or None, landing page)."""
    url = reverse("application_create", args=[call.pk])
    form_page = client.get(url, {"institution": institution.pk})
    uploads = {
        name: steps.pdf_file(f"{name.removeprefix('attachment_')}.pdf", MINIMAL_PDF)
        for name in file_inputs(form_page)
    }
    assert uploads, "the form shows no attachment to upload"
    data = {"institution": institution.pk} | fields | uploads
    response = client.post(url, data, follow=True)
    application = None
    if response.redirect_chain:
        pk = resolve(response.redirect_chain[-1][0]).kwargs.get("pk")
        application = Application.objects.get(pk=pk) if pk else None
    return application, response


def submitted(client: Client, call: Call, institution: Institution, fields: dict) -> Application:
    """A draft saved and 提交申报 pressed; fails when either step is refused."""
    application, response = draft_create(client, call, institution, fields)
    assert application is not None, steps.form_errors(response)
    response = steps.submit(client, application)
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED, steps.messages_shown(response)
    return application


# --- the city office ------------------------------------------------------------------------------


def recommend(client: Client, application: Application, decision: str, reason: str = ""):
    """Open 推荐, click 办理推荐 for the application, choose 推荐 / 不予推荐, send."""
    listing = client.get(reverse("recommendation_list"))
    url = reverse("recommendation_decide", args=[application.pk])
    assert url in steps.hrefs(listing, "recommendation_decide"), "no 办理推荐 link"
    steps.page(client.get(url))
    return client.post(url, {"decision": decision, "reason": reason}, follow=True)


def recommended_and_accepted(clients: SimpleNamespace, applications: list[Application]) -> None:
    """Each city office recommends its region's applications, the reviewer accepts them all (the
    expert panel is drawn)."""
    for application in applications:
        recommend(city_browser(clients, application.institution), application, "recommend")
        response = steps.formal_review(clients.reviewer, application, "accept")
        assert "形式审查结论已提交。" in steps.messages_shown(response)


# --- the experts ----------------------------------------------------------------------------------


def seats_open(application: Application) -> list[PanelSeat]:
    """The application's seats whose expert still has to declare or score (who to log in as)."""
    return list(
        application.seats.filter(status__in=[Seat.DRAWN, Seat.DECLARED])
        .select_related("expert__user")
        .order_by("pk")
    )


def declare(client: Client, seat: PanelSeat, decision: str = "no_conflict", reason: str = ""):
    """From 我的评审任务 click 声明 for the seat, choose no conflict or recusal, send."""
    listing = client.get(reverse("expert_seats"))
    url = reverse("seat_declare", args=[seat.pk])
    assert url in steps.hrefs(listing, "seat_declare"), "no 声明 link for the seat"
    steps.page(client.get(url))
    return client.post(
        url, {"decision": decision, "reason": reason, "relation_kind": ""}, follow=True
    )


def score(client: Client, seat: PanelSeat, points: list[str], comment: str = "材料翔实。"):
    """Open the scoring page, type `points` into the rubric's fields in the order shown, send."""
    url = reverse("seat_score", args=[seat.pk])
    names = re.findall(r'name="(points_[^"]+)"', steps.page(client.get(url)))
    data = dict(zip(names, points, strict=True)) | {"comment": comment, "confirm": "1"}
    return client.post(url, data, follow=True)


def panel_scored(application: Application, points: list[str]) -> Application:
    """Every expert still on the panel declares no conflict and gives `points`."""
    for seat in seats_open(application):
        client = browser(seat.expert.user)
        if seat.status == Seat.DRAWN:
            response = declare(client, seat)
            assert "已声明无利害关系，请评分。" in steps.messages_shown(response)
        response = score(client, seat, points)
        assert "评分已提交。" in steps.messages_shown(response), steps.form_errors(response)
    application.refresh_from_db()
    return application


def panel_replace(client: Client, seat: PanelSeat, reason: str):
    """On the application's panel page press 替换逾期专家 in the late expert's row."""
    panel = steps.page(client.get(reverse("panel_detail", args=[seat.application_id])))
    url = reverse("panel_replace", args=[seat.pk])
    assert f'action="{url}"' in panel, "no 替换逾期专家 button for the seat"
    return client.post(url, {"reason": reason}, follow=True)


def ranking_rows(client: Client, call: Call) -> list[tuple[str, str, str]]:
    """(rank, institution, panel score) per row of the call's 专家评审排名 page."""
    text = steps.page(client.get(reverse("ranking", args=[call.pk])))
    rows = re.findall(r'<tr class="ranking-row">(.*?)</tr>', text, re.S)
    cells = [re.findall(r"<td>(.*?)</td>", re.sub(r"<a [^>]*>|</a>", "", row)) for row in rows]
    return [(c[0], c[1], c[2]) for c in cells]


# --- the award committee --------------------------------------------------------------------------


def committee_vote(client: Client, call: Call, choices: dict, reasons: dict | None = None):
    """Open the committee page, choose a tier (or 未获奖, "none") per row, press 批准名单."""
    url = reverse("committee_list", args=[call.pk])
    text = steps.page(client.get(url))
    assert "批准名单" in text
    for application in choices:
        assert f'name="choice_{application.pk}"' in text, "the application is not on the list"
    data = {f"choice_{a.pk}": choice for a, choice in choices.items()}
    data |= {f"reason_{a.pk}": reason for a, reason in (reasons or {}).items()}
    return client.post(url, data, follow=True)


def committee_rows(response) -> list[int]:
    """The application pks of the committee list's rows, top to bottom."""
    text = steps.page(response)
    return [int(pk) for pk in re.findall(r'<tr class="application" data-pk="(\d+)"', text)]


def choice_shown(response, application: Application) -> str:
    """The option selected in an application's row of the committee list ('' when none)."""
    text = steps.page(response)
    select = re.search(rf'<select name="choice_{application.pk}".*?</select>', text, re.S)
    assert select, "the application is not on the list"
    chosen = re.search(r'<option value="([^"]*)" selected>', select.group(0))
    return chosen.group(1) if chosen else ""


# --- documents ------------------------------------------------------------------------------------


def pdf_compact(client: Client, application: Application, title: str) -> str:
    """The text (without white space) of the document called `title` on the application page."""
    return steps.squeeze(steps.document_text(client, application, title))
