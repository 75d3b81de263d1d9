"""Translations: Chinese by default, English on request, viewflow's strings in Chinese, and the
committed catalogues complete (no empty or fuzzy entries, placeholders kept, .mo compiled)."""

import ast
import gettext as gnu_gettext
import html
import re
from pathlib import Path

import pytest
import viewflow
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, pgettext
from viewflow.workflow.status import STATUS

from tests.factories import CallFactory
from workflows import services
from workflows.demo import application_draft, cast_make, institution_make, uscc_make
from workflows.stages.formal_review.services import formal_review_complete

LOCALE = Path(settings.BASE_DIR) / "locale"
EN_PO = LOCALE / "en" / "LC_MESSAGES" / "django.po"
ZH_PO = LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"
VIEWFLOW_PO = Path(viewflow.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
PLACEHOLDER_RE = re.compile(r"%\(\w+\)[sdif]|\{[\w.]+\}")


# --- a tiny PO reader (polib is not installed) ----------------------------------------------------


def po_entries(path: Path) -> list[dict]:
    """Entries of a PO file, header included (msgid ""), obsolete (#~) entries left out.

    Each entry: msgctxt (or None), msgid, msgid_plural (or None), msgstr (list: one item, or one
    per plural form) and flags (set)."""
    entries: list[dict] = []
    entry: dict | None = None
    field: tuple | None = None

    def new_entry() -> dict:
        item = {"msgctxt": None, "msgid": None, "msgid_plural": None, "msgstr": {}, "flags": set()}
        entries.append(item)
        return item

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#~"):
            field = None
            continue
        if line.startswith("#"):
            if entry is None or entry["msgid"] is not None:
                entry = new_entry()
            if line.startswith("#,"):
                entry["flags"].update(f.strip() for f in line[2:].split(",") if f.strip())
            continue
        if line.startswith('"'):
            value = ast.literal_eval(line)
            if field[0] == "msgstr":
                entry["msgstr"][field[1]] += value
            else:
                entry[field[0]] += value
            continue
        keyword, _, rest = line.partition(" ")
        value = ast.literal_eval(rest)
        if keyword in ("msgctxt", "msgid"):
            starts_new = entry is None or entry["msgid"] is not None
            if keyword == "msgid" and entry is not None and entry["msgctxt"] is not None:
                starts_new = entry["msgid"] is not None
            if starts_new:
                entry = new_entry()
            entry[keyword] = value
            field = (keyword,)
        elif keyword == "msgid_plural":
            entry["msgid_plural"] = value
            field = ("msgid_plural",)
        elif keyword == "msgstr":
            entry["msgstr"][0] = value
            field = ("msgstr", 0)
        elif keyword.startswith("msgstr["):
            index = int(keyword[len("msgstr[") : -1])
            entry["msgstr"][index] = value
            field = ("msgstr", index)
        else:
            raise ValueError(f"{path}: cannot read line {raw!r}")
    for item in entries:
        item["msgstr"] = [item["msgstr"][i] for i in sorted(item["msgstr"])]
    return entries


def messages_of(path: Path) -> list[dict]:
    return [e for e in po_entries(path) if e["msgid"]]


def header_of(path: Path) -> dict[str, str]:
    header = next(e for e in po_entries(path) if e["msgid"] == "")
    return dict(line.split(": ", 1) for line in header["msgstr"][0].splitlines() if line)


def key(entry: dict) -> tuple:
    return entry["msgctxt"], entry["msgid"]


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER_RE.findall(text))


def page_text(response) -> str:
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def choose_language(client, code: str) -> None:
    response = client.post(reverse("set_language"), {"language": code, "next": "/"})
    assert response.status_code == 302


# --- the UI in either language -------------------------------------------------------------------


@pytest.mark.django_db
def test_pages_are_chinese_by_default(client):
    home = page_text(client.get(reverse("home")))
    assert '<html lang="zh-hans">' in home
    assert "登录" in home
    assert "知识产权专项资助与认定" in home
    assert "登录" in page_text(client.get(reverse("login")))


@pytest.mark.django_db
def test_choosing_english_translates_the_pages_and_chinese_switches_back(client):
    choose_language(client, "en")

    home = page_text(client.get(reverse("home")))
    assert '<html lang="en">' in home
    assert "Log in" in home
    assert "Sign up" in home
    assert "IP Special Funding and Designation" in home
    assert "登录" not in home
    assert "注册" not in home
    login = page_text(client.get(reverse("login")))
    assert "Log in" in login
    assert "登录" not in login

    choose_language(client, "zh-hans")
    home = page_text(client.get(reverse("home")))
    assert "登录" in home
    assert "Log in" not in home


@pytest.mark.parametrize(
    "language, shown, not_shown",
    [
        ("zh-hans", "统一社会信用代码无效", "Invalid unified social credit code"),
        ("en", "Invalid unified social credit code", "统一社会信用代码无效"),
    ],
)
def test_service_validation_message_follows_the_chosen_language(
    client_for, applicant, language, shown, not_shown
):
    good = uscc_make(515151)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    browser = client_for(applicant)
    choose_language(browser, language)

    response = browser.post(
        reverse("institution_register"),
        {"name": "贵州星火技术转移中心", "uscc": bad, "region_code": "520100", "address": ""},
    )

    text = page_text(response)
    assert shown in text
    assert not_shown not in text
    assert bad in text  # the %(value)s placeholder survived translation
    assert not applicant.institutions.exists()


# --- viewflow's own strings --------------------------------------------------------------------


VIEWFLOW_SAMPLES = [
    (None, "Process", "流程"),
    (None, "Assign", "认领"),
    (None, "Unassign", "取消认领"),
    ("STATUS", "Done", "已完成"),
    ("STATUS", "Canceled", "已取消"),
]


@pytest.mark.parametrize("context, msgid, expected", VIEWFLOW_SAMPLES)
def test_viewflow_strings_are_translated_in_chinese(context, msgid, expected):
    assert (context, msgid) in {key(e) for e in messages_of(VIEWFLOW_PO)}
    with translation.override("zh-hans"):
        translated = pgettext(context, msgid) if context else gettext(msgid)
    assert translated == expected
    assert translated != msgid


def test_viewflow_task_statuses_read_in_chinese():
    with translation.override("zh-hans"):
        assert str(STATUS.NEW.label) == "新建"
        assert str(STATUS.ASSIGNED.label) == "已分配"
        assert str(STATUS.DONE.label) == "已完成"
    with translation.override("en"):
        assert str(STATUS.DONE.label) == "Done"


def test_viewflow_brace_placeholders_survive_translation():
    with translation.override("zh-hans"):
        message = gettext("Task {task} has been assigned.").format(task="#42")
    assert message == "任务 #42 已被认领。"


# --- catalogue completeness ----------------------------------------------------------------------


def test_english_catalogue_is_complete():
    entries = messages_of(EN_PO)
    assert len(entries) > 200
    header = header_of(EN_PO)
    assert header["Language"] == "en"
    assert "charset=UTF-8" in header["Content-Type"]
    for entry in entries:
        assert "fuzzy" not in entry["flags"], entry["msgid"]
        expected_forms = 2 if entry["msgid_plural"] is not None else 1
        assert len(entry["msgstr"]) == expected_forms, entry["msgid"]
        for form in entry["msgstr"]:
            assert form.strip(), f"untranslated: {entry['msgid']}"
            assert placeholders(form) == placeholders(entry["msgid"]), entry["msgid"]
    assert not any("fuzzy" in e["flags"] for e in po_entries(EN_PO))


def test_english_translations_are_english():
    """Every project msgid is Chinese; its English msgstr must not still be Chinese (the language
    names in the switcher are the one deliberate exception)."""
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for entry in messages_of(EN_PO):
        if entry["msgid"] == "简体中文":
            continue
        for form in entry["msgstr"]:
            assert not cjk.search(form), f"{entry['msgid']} -> {form}"


def test_chinese_catalogue_carries_every_viewflow_string():
    header = header_of(ZH_PO)
    assert header["Language"] == "zh_Hans"
    assert "charset=UTF-8" in header["Content-Type"]
    assert header["Plural-Forms"] == "nplurals=1; plural=0;"

    entries = messages_of(ZH_PO)
    keys = [key(e) for e in entries]
    assert len(keys) == len(set(keys)), "duplicate msgids"
    ours = {key(e): e for e in entries}
    viewflow_entries = messages_of(VIEWFLOW_PO)
    assert len(viewflow_entries) > 100
    for entry in viewflow_entries:
        assert key(entry) in ours, f"viewflow msgid missing: {key(entry)}"
        translated = ours[key(entry)]
        assert "fuzzy" not in translated["flags"], key(entry)
        assert translated["msgid_plural"] == entry["msgid_plural"], key(entry)
        for form in translated["msgstr"]:
            assert form.strip(), f"untranslated viewflow msgid: {key(entry)}"
            assert placeholders(form) <= placeholders(entry["msgid"]) | placeholders(
                entry["msgid_plural"] or ""
            ), key(entry)


def test_chinese_catalogue_has_every_project_msgid():
    zh = {key(e) for e in messages_of(ZH_PO)}
    missing = {key(e) for e in messages_of(EN_PO)} - zh
    assert not missing
    assert not any("fuzzy" in e["flags"] for e in po_entries(ZH_PO))


def test_an_english_label_leaves_a_space_after_its_colon():
    """A Chinese label ends in a full-width colon and its value follows at once (当前状态：已拨付);
    in English the value needs a space after the colon ("Current status: Paid out", not
    "Current status:Paid out")."""
    labels = [
        entry
        for entry in po_entries(EN_PO)
        if (entry["msgid"] or "").endswith("：") and entry["msgid_plural"] is None
    ]
    assert labels
    cramped = [e["msgid"] for e in labels if not e["msgstr"][0].endswith(": ")]
    assert not cramped, cramped


@pytest.mark.parametrize("po_path", [EN_PO, ZH_PO], ids=["en", "zh_Hans"])
def test_compiled_catalogue_matches_the_po_file(po_path):
    """The committed .mo holds exactly what the .po says (compilemessages was run after the last
    edit), since a fresh machine may have no msgfmt."""
    mo_path = po_path.with_suffix(".mo")
    assert mo_path.exists(), f"{mo_path} missing: run compilemessages"
    with mo_path.open("rb") as handle:
        catalog = gnu_gettext.GNUTranslations(handle)._catalog
    for entry in messages_of(po_path):
        msgid = entry["msgid"]
        if entry["msgctxt"] is not None:
            msgid = f"{entry['msgctxt']}\x04{msgid}"
        if entry["msgid_plural"] is None:
            assert catalog.get(msgid) == entry["msgstr"][0], f"stale .mo: {msgid!r}"
        else:
            for index, form in enumerate(entry["msgstr"]):
                assert catalog.get((msgid, index)) == form, f"stale .mo: {msgid!r}[{index}]"


# --- official documents stay Chinese whatever the UI language ----------------------------------


@pytest.mark.django_db
def test_document_title_stays_chinese_when_the_user_works_in_english():
    """The English catalogue translates Document.Kind labels; the PDF heading must not use them."""
    cast = cast_make()
    call = CallFactory()
    institution = institution_make(user=cast.applicant, serial=91)
    application = application_draft(user=cast.applicant, call=call, institution=institution)
    services.application_submit(user=cast.applicant, application=application)
    with translation.override("en"):
        formal_review_complete(user=cast.formal_reviewer, application=application, outcome="accept")
    document = application.documents.get()
    assert document.title == "受理通知书"


def test_every_translated_string_is_marked_so_that_makemessages_finds_it():
    """Labels marked `_l("…")` (gettext_lazy imported as _l) were never extracted: xgettext
    knows `_`, gettext, gettext_lazy and the rest by name, not an alias, so 评分专家数 and 80
    other labels stayed Chinese in English. Only `_` may alias a gettext function."""
    from django.conf import settings

    alias = re.compile(r"import (?:\w*gettext\w*) as (?!_\b)(\w+)")
    found = []
    for folder in ("workflows", "documents", "forms", "config"):
        for path in (settings.BASE_DIR / folder).rglob("*.py"):
            for match in alias.finditer(path.read_text(encoding="utf-8")):
                found.append(f"{path.relative_to(settings.BASE_DIR)}: {match.group(0)}")
    assert not found, found


@pytest.mark.django_db
def test_in_english_programs_statuses_and_charts_read_in_english(client_for, formal_reviewer):
    """The programs page headed each program with its Chinese title although the file has an
    English one, the chart ended in 办结 (its strings, in an .svg template, were never
    extracted), and a refused application read "Refuse"."""
    from workflows.models import Application

    browser = client_for(formal_reviewer)
    choose_language(browser, "en")
    text = page_text(browser.get(reverse("program_list")))

    assert "Tech-transfer agency grant" in text
    assert "技术转移机构经费资助" not in text
    assert "办结" not in text and "workflow chart" in text
    with translation.override("en"):
        assert str(Application.Status.REFUSED.label) == "Refused"


def test_the_chart_grows_to_hold_its_english_labels():
    """Boxes sized for Chinese names cut English ones (City office recommendation, Lapsed (no
    correction in time)) at their edges; they are as wide as their longest label."""
    from workflows.chart import END_PX, NAME_PX, chart_layout, text_width
    from workflows.programs import program_get

    content = program_get("ip_advantage_enterprise").content
    with translation.override("zh-hans"):
        chinese = chart_layout(content)
    with translation.override("en"):
        english = chart_layout(content)

    assert english["box"]["w"] > chinese["box"]["w"] and english["width"] > chinese["width"]
    for stage in english["stages"]:
        assert text_width(stage.name, NAME_PX) < english["box"]["w"], stage.name
        for end in stage.ends:
            assert text_width(end["label"], END_PX) < english["end"]["w"], end["label"]
    assert any(stage.name == "City office recommendation" for stage in english["stages"])


@pytest.mark.django_db
def test_in_english_labels_take_an_english_colon_and_dates_an_english_form(
    client_for, formal_reviewer
):
    """English pages read "Status：" and "Approval date 2025年1月31日"."""
    from datetime import date

    from tests.factories import ApplicationFactory
    from workflows.models import Application

    application = ApplicationFactory(status=Application.Status.SUBMITTED)
    Application.objects.filter(pk=application.pk).update(approval_date=date(2025, 1, 31))
    browser = client_for(formal_reviewer)
    choose_language(browser, "en")
    text = page_text(browser.get(reverse("application_detail", args=[application.pk])))
    assert "Status: " in text and "Status：" not in text
    assert "Jan. 31, 2025" in text and "2025年1月31日" not in text
    choose_language(browser, "zh-hans")
    text = page_text(browser.get(reverse("application_detail", args=[application.pk])))
    assert "状态：" in text and "2025年1月31日" in text


@pytest.mark.django_db
def test_a_forms_help_text_follows_the_readers_language(client_for, applicant):
    """The credit code's help text was formatted when the form was imported, so it stayed
    Chinese on the English page."""
    browser = client_for(applicant)
    choose_language(browser, "en")
    page = page_text(browser.get(reverse("institution_register")))
    assert "91520100MA6DK1234H" in page and "例如" not in page
    choose_language(browser, "zh-hans")
    assert "例如 91520100MA6DK1234H" in page_text(browser.get(reverse("institution_register")))


# --- a signed-in person's choice follows them ---------------------------------------------------


def form_login(client, user):
    from workflows.demo import DEMO_PASSWORD

    response = client.post(reverse("login"), {"username": user.username, "password": DEMO_PASSWORD})
    assert response.status_code == 302, response.content[:500]
    return response


@pytest.mark.django_db
def test_the_language_a_signed_in_person_chose_comes_back_on_another_browser(applicant):
    from django.test import Client

    from workflows.models import ReaderLanguage

    office = Client()
    form_login(office, applicant)
    assert '<html lang="zh-hans">' in page_text(office.get(reverse("home")))
    choose_language(office, "en")
    assert ReaderLanguage.objects.get(user=applicant).language == "en"

    # Another browser: Chinese until they sign in, English from then on.
    home = Client()
    assert '<html lang="zh-hans">' in page_text(home.get(reverse("home")))
    signed_in = form_login(home, applicant)
    assert signed_in.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert '<html lang="en">' in page_text(home.get(reverse("home")))

    # Switching back to Chinese is kept too.
    choose_language(home, "zh-hans")
    assert ReaderLanguage.objects.get(user=applicant).language == "zh-hans"
    again = Client()
    form_login(again, applicant)
    assert '<html lang="zh-hans">' in page_text(again.get(reverse("home")))

    # A browser already switched to a language keeps it, and it becomes the person's choice.
    english = Client()
    choose_language(english, "en")
    form_login(english, applicant)
    assert '<html lang="en">' in page_text(english.get(reverse("home")))
    assert ReaderLanguage.objects.get(user=applicant).language == "en"


@pytest.mark.django_db
def test_a_language_chosen_before_signing_in_is_kept_for_who_signs_in(client, applicant):
    from workflows.models import ReaderLanguage

    choose_language(client, "en")  # on the login page, nobody signed in yet
    assert not ReaderLanguage.objects.exists()
    form_login(client, applicant)
    assert ReaderLanguage.objects.get(user=applicant).language == "en"
    assert '<html lang="en">' in page_text(client.get(reverse("home")))


@pytest.mark.django_db
def test_a_language_the_site_does_not_offer_is_not_kept(client, applicant):
    from workflows.models import ReaderLanguage

    form_login(client, applicant)
    response = client.post(reverse("set_language"), {"language": "fr", "next": "/"})
    assert response.status_code == 302
    assert not ReaderLanguage.objects.exists()
    assert '<html lang="zh-hans">' in page_text(client.get(reverse("home")))
