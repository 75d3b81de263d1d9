"""Every user step of the tech-transfer grant, performed through Django's HTTP test client.

Each helper does what a person does in a browser: it reads the page that carries the link or
button when there is one, posts the form the template renders (multipart when it uploads files)
and follows the redirect, returning the page the user lands on. Assertions about what the user
sees stay in the tests; helpers only fail when a step cannot be taken at all (a link is missing,
a page answers with an unexpected status).

The one step that is not HTTP is closing the public-notice period: `workflows.demo.notice_expire`
does what cron does in production.
"""

import html
import re
import subprocess
from datetime import date, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import resolve, reverse
from django.utils import timezone

from tests.tasks_support import tasks_run
from workflows.demo import MINIMAL_PDF
from workflows.models import Application, Call, Objection, PublicNotice

REQUIRED_ATTACHMENTS = ("approval_document", "business_licence")
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64


# --- reading pages --------------------------------------------------------------------------------


def page(response) -> str:
    """The page's HTML with entities decoded, as the user reads it."""
    assert response.status_code == 200, f"expected a page, got {response.status_code}"
    return html.unescape(response.content.decode())


def messages_shown(response) -> list[str]:
    """The flash messages at the top of the page."""
    return [
        html.unescape(re.sub(r"<[^>]+>", "", m))
        for m in re.findall(r'<li class="message[^"]*">(.*?)</li>', response.content.decode(), re.S)
    ]


def form_errors(response) -> list[str]:
    """Field errors and the form-wide errors shown on a form page."""
    text = response.content.decode()
    field = re.findall(r'<p class="error">(.*?)</p>', text, re.S)
    box = re.search(r'<div class="errors" role="alert">(.*?)</div>', text, re.S)
    general = re.findall(r"<p>(.*?)</p>", box.group(1), re.S) if box else []
    return [html.unescape(e) for e in general + field]


def status_shown(client: Client, application: Application) -> str:
    """The status label on the application page ("状态：<strong>…</strong>")."""
    text = page(client.get(reverse("application_detail", args=[application.pk])))
    match = re.search(r"状态：<strong>(.*?)</strong>", text)
    assert match, "the application page shows no status"
    return match.group(1)


def input_value(response, name: str) -> str | None:
    """The value a text input of the form shows (None when the input has no value)."""
    text = response.content.decode()
    tag = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', text)
    assert tag, f"no input named {name}"
    value = re.search(r'value="([^"]*)"', tag.group(0))
    return html.unescape(value.group(1)) if value else None


def links(response, url_name: str) -> list[tuple[str, str]]:
    """(link text, href) for every link of the page that resolves to `url_name`."""
    found = []
    for href, label in re.findall(r'<a[^>]*href="([^"]+)"[^>]*>(.*?)</a>', page(response), re.S):
        path = href.split("?")[0]
        try:
            match = resolve(path)
        except Exception:
            continue
        if match.url_name == url_name:
            found.append((re.sub(r"<[^>]+>", "", label).strip(), href))
    return found


def hrefs(response, url_name: str) -> set[str]:
    return {href for _label, href in links(response, url_name)}


def link_to(response, url_name: str, label: str) -> str:
    """The href of the one link called `label` (the text a user clicks)."""
    found = [href for text, href in links(response, url_name) if text == label]
    assert len(found) == 1, f"{label}: {links(response, url_name)}"
    return found[0]


def squeeze(text: str) -> str:
    """Text without any whitespace: PDF layout breaks lines and spaces CJK text arbitrarily."""
    return "".join(text.split())


# --- files ----------------------------------------------------------------------------------------


def pdf_file(name: str = "document.pdf", content: bytes = MINIMAL_PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def png_named_pdf(name: str = "scan.pdf") -> SimpleUploadedFile:
    """A PNG image renamed .pdf: the name and content type lie, the content does not."""
    return SimpleUploadedFile(name, PNG_BYTES, content_type="application/pdf")


def pdf_text(data: bytes) -> str:
    """The text of a PDF as `pdftotext - -` extracts it."""
    assert data.startswith(b"%PDF-"), "the download is not a PDF"
    result = subprocess.run(
        ["pdftotext", "-", "-"], input=data, capture_output=True, check=True, timeout=30
    )
    return result.stdout.decode("utf-8")


def download(client: Client, href: str) -> bytes:
    response = client.get(href)
    assert response.status_code == 200, f"download {href}: {response.status_code}"
    # Consuming the stream closes the file; calling response.close() here would fire
    # request_finished and close the test's database connection.
    return b"".join(response.streaming_content)


def document_text(client: Client, application: Application, title: str) -> str:
    """Open the application page, click the document called `title`, return the PDF's text.
    The background jobs run first: a document issued one at a time is recorded by the request
    and rendered by a worker, which has done so by the time a person comes to download it."""
    tasks_run()
    detail = client.get(reverse("application_detail", args=[application.pk]))
    return pdf_text(download(client, link_to(detail, "document_download", title)))


# --- applicant ------------------------------------------------------------------------------------


def institution_register(client: Client, *, name: str, uscc: str, region_code: str = "520100"):
    return client.post(
        reverse("institution_register"),
        {"name": name, "uscc": uscc, "region_code": region_code, "address": ""},
        follow=True,
    )


def application_fields(call: Call, *, tier: str = "national", **overrides) -> dict:
    """What an applicant types into the form (a valid draft unless overridden)."""
    fields = {
        "tier": tier,
        "approval_number": f"国科火字〔{call.designation_to.year}〕18号",
        "approval_date": (call.designation_from + timedelta(days=30)).isoformat(),
        "bank_name": "中国工商银行贵阳分行",
        "account_name": "贵州省技术转移示范中心",
        "bank_account": "2402 0012 0900 1234 567",
        "contact_name": "张敏",
        "contact_phone": "0851-85550000",
    }
    fields.update(overrides)
    return fields


def _uploads(uploads: dict | None) -> dict:
    if uploads is None:
        uploads = {kind: pdf_file(f"{kind}.pdf") for kind in REQUIRED_ATTACHMENTS}
    return {f"attachment_{kind}": upload for kind, upload in uploads.items()}


def draft_create(
    client: Client, call: Call, *, uploads: dict | None = None, tier: str = "national", **fields
):
    """Open the call's application form and save a draft (multipart POST).

    `uploads` maps attachment kind -> file (default: every required attachment as a PDF).
    Returns (application or None when no draft was saved, the page the user lands on)."""
    url = reverse("application_create", args=[call.pk])
    page(client.get(url))
    data = application_fields(call, tier=tier, **fields) | _uploads(uploads)
    response = client.post(url, data, follow=True)
    application = None
    if response.redirect_chain:
        pk = resolve(response.redirect_chain[-1][0]).kwargs.get("pk")
        application = Application.objects.get(pk=pk) if pk else None
    return application, response


def draft_edit(client: Client, application: Application, *, uploads: dict | None = None, **fields):
    """Open the edit form, keep what it shows, change `fields`, upload `uploads`, save."""
    url = reverse("application_edit", args=[application.pk])
    form_page = client.get(url)
    page(form_page)
    current = {
        name: input_value(form_page, name) or ""
        for name in application_fields(application.call)
        if name != "tier"
    }
    current["tier"] = application.tier
    data = current | fields | _uploads(uploads or {})
    return client.post(url, data, follow=True)


def submit(client: Client, application: Application):
    """Tick 我已核对… and press 提交申报 / 提交补正 on the application page."""
    return client.post(
        reverse("application_submit", args=[application.pk]), {"confirm": "1"}, follow=True
    )


def application_submitted(client: Client, call: Call, *, tier: str = "national", **fields):
    application, response = draft_create(client, call, tier=tier, **fields)
    assert application is not None, form_errors(response)
    response = submit(client, application)
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED, messages_shown(response)
    return application


# --- formal review and leadership -----------------------------------------------------------------


def formal_review(client: Client, application: Application, outcome: str, reason: str = ""):
    url = reverse("formal_review", args=[application.pk])
    page(client.get(url))
    return client.post(url, {"outcome": outcome, "reason": reason}, follow=True)


def leadership_one_by_one(client: Client, call: Call, decisions: dict):
    """Tick 通过 / 不通过 per application (`{application: ("approve" | "reject", reason)}`) and
    press 提交所选决定."""
    url = reverse("leadership_meeting", args=[call.pk])
    page(client.get(url))
    data = {"confirm": "1"}
    for application, (choice, reason) in decisions.items():
        data[f"decision_{application.pk}"] = choice
        data[f"reason_{application.pk}"] = reason
    return client.post(url, data, follow=True)


def leadership_approve_all(client: Client, call: Call):
    """Press 全部通过 on the leadership page."""
    url = reverse("leadership_meeting", args=[call.pk])
    assert "全部通过" in page(client.get(url))
    return client.post(url, {"approve_all": "1", "confirm": "1"}, follow=True)


# --- public notice, objections, decision ----------------------------------------------------------


def call_manage(client: Client, call: Call, action: str):
    """Press 发布审议通过名单公示 (`publish`) or tick 我已核对… and press 印发决定及通知书（证书）
    (`decide`), then let the background jobs run (a worker, in development and production)."""
    url = reverse("call_manage", args=[call.pk])
    page(client.get(url))
    response = client.post(url, {"action": action, "confirm": "1"}, follow=True)
    tasks_run()  # the worker issues the batch the request enqueued
    return response


def notice_of(call: Call) -> PublicNotice:
    return call.public_notices.get()


def objection_lodge(
    client: Client,
    notice: PublicNotice,
    application: Application,
    *,
    capacity: str = "organisation",
    organisation_name: str = "贵州某科技有限公司",
    statement: str = "该单位的获批文件日期与事实不符，附有关部门出具的证明。",
    evidence=None,
    **extra,
):
    """Open the public notice, click 提出异议 on the application's row, fill and send the form."""
    notice_page = client.get(reverse("notice_detail", args=[notice.pk]))
    url = reverse("objection_lodge", args=[notice.pk, application.pk])
    assert url in hrefs(notice_page, "objection_lodge"), "no 提出异议 link on the notice"
    page(client.get(url))
    data = {
        "capacity": capacity,
        "organisation_name": organisation_name,
        "real_name": "",
        "id_number": "",
        "phone": "0851-85551234",
        "statement": statement,
        "evidence": evidence or pdf_file("evidence.pdf"),
    } | extra
    return client.post(url, data, follow=True)


def objection_handle(client: Client, objection: Objection, decision: str, reason: str):
    """On the call's management page click 处理 for `objection`, choose uphold / dismiss."""
    manage = client.get(reverse("call_manage", args=[objection.application.call_id]))
    url = reverse("objection_handle", args=[objection.pk])
    assert url in hrefs(manage, "objection_handle"), "no 处理 link for the objection"
    page(client.get(url))
    return client.post(url, {"decision": decision, "reason": reason}, follow=True)


# --- finance --------------------------------------------------------------------------------------


def award_letter(client: Client, application: Application):
    """Press 印发奖励通知书 on the finance list."""
    finance = page(client.get(reverse("finance_list")))
    url = reverse("award_letter", args=[application.pk])
    assert f'action="{url}"' in finance, "no 印发奖励通知书 button for the application"
    return client.post(url, follow=True)


def payment(client: Client, application: Application, *, voucher: str, paid_on: date | None = None):
    """Click 登记拨付 on the finance list and record the payment with its voucher."""
    url = reverse("payment_record", args=[application.pk])
    assert url in hrefs(client.get(reverse("finance_list")), "payment_record")
    page(client.get(url))
    paid_on = paid_on or timezone.localdate()
    return client.post(
        url,
        {"voucher_number": voucher, "paid_on": paid_on.isoformat(), "confirm": "1"},
        follow=True,
    )


# --- whole runs -----------------------------------------------------------------------------------


def accepted_and_approved(clients, call: Call, applications: list[Application]) -> None:
    """Formal review accepts each application, leadership approves them all one by one."""
    for application in applications:
        formal_review(clients.reviewer, application, "accept")
    leadership_one_by_one(
        clients.leader, call, {application: ("approve", "") for application in applications}
    )


def through_notice(clients, call: Call) -> None:
    """Publish the notice, let the period end (cron), issue the decision."""
    from workflows.demo import notice_expire

    call_manage(clients.notice, call, "publish")
    notice_expire(call)
    call_manage(clients.notice, call, "decide")


def paid(clients, application: Application, *, voucher: str):
    award_letter(clients.finance, application)
    return payment(clients.finance, application, voucher=voucher)


def run_to_paid(clients, call: Call, *, tier: str, voucher: str) -> Application:
    """One application from an empty form to 已拨付, every step through HTTP."""
    application = application_submitted(clients.applicant, call, tier=tier)
    accepted_and_approved(clients, call, [application])
    through_notice(clients, call)
    paid(clients, application, voucher=voucher)
    application.refresh_from_db()
    assert application.status == Application.Status.PAID, application.status
    return application
