"""Pages of the expert_review stage (专家评审).

Experts: their seats, the declaration (no conflict, or recusal) and the scoring page; they only
ever reach their own seats (another expert's seat answers 404). Panel managers and other staff: an
application's panel, replacing late experts, vacant seats, and a call's ranking.
"""

from dataclasses import replace
from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from ... import selectors
from ...listing import APPLICATION_PATHS, Column, ExportColumn, Listing, application_paths
from ...models import Application, Call, PanelSeat
from ...permissions import VIEW_ALL
from ...programs import program_get, stage_by_key
from ...services.tasks import TaskAlreadyDone
from ...views.base import batch_job_told, form_errors, role_required
from . import reads
from . import services as panels
from .forms import DeclarationForm, ScoreForm
from .params import MANAGE_PANELS
from .tasks import round_close_job

EXPERT_REVIEW = "workflows.expert_review"
Seat = PanelSeat.Status
# The ranking page names the panels still open up to this many (the panel pages show them all).
OPEN_PANELS_SHOWN = 100


# --- experts -----------------------------------------------------------------------------------


SEATS = Listing(
    name=gettext_lazy("评审任务"),
    columns=[
        Column("institution", gettext_lazy("申报单位"), ("application__institution__name",)),
        Column("program", gettext_lazy("项目"), ("application__call__program_slug",)),
        Column("call", gettext_lazy("批次"), ("application__call__title",)),
        Column("due", gettext_lazy("评审期限"), ("waiting", "due_at")),
        Column("status", gettext_lazy("状态"), ("status",)),
        Column("scored", gettext_lazy("评分时间"), ("scored_at",)),
        Column("total", gettext_lazy("本人评分"), ("total",)),
        Column("actions", ""),
    ],
    # What still waits for the expert comes first, the nearest deadline first.
    default_sort="due",
    paths=application_paths("application", status="status", date="drawn_at"),
    statuses=Seat.choices,
    date_label=gettext_lazy("抽取日期"),
    export=[
        ExportColumn(gettext_lazy("申报单位"), lambda s: s.application.institution.name),
        ExportColumn(gettext_lazy("统一社会信用代码"), lambda s: s.application.institution.uscc),
        ExportColumn(gettext_lazy("项目"), lambda s: s.application.program_version.title),
        ExportColumn(gettext_lazy("批次"), lambda s: s.application.call.title),
        ExportColumn(gettext_lazy("评审轮次"), lambda s: s.stage_key),
        ExportColumn(gettext_lazy("抽取时间"), lambda s: s.drawn_at),
        ExportColumn(gettext_lazy("评审期限"), lambda s: s.due_at),
        ExportColumn(gettext_lazy("状态"), lambda s: s.get_status_display()),
        ExportColumn(gettext_lazy("评分时间"), lambda s: s.scored_at),
        ExportColumn(gettext_lazy("本人评分"), lambda s: s.total),
    ],
)


@role_required(EXPERT_REVIEW)
def expert_seats(request):
    """The expert's own seats (never another's), a page at a time: what waits first."""
    seats = reads.seats_of_expert(request.user).annotate(
        waiting=Case(
            When(status__in=[Seat.DRAWN, Seat.DECLARED], then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
    )
    listed = SEATS.run(request, seats)
    if isinstance(listed, HttpResponse):
        return listed
    return render(request, "expert_review/seat_list.html", {"list": listed})


@role_required(EXPERT_REVIEW)
def seat_declare(request, pk):
    seat = get_object_or_404(reads.seats_of_expert(request.user), pk=pk)
    if seat.status in (Seat.DECLARED, Seat.SCORED):
        return redirect("seat_score", pk=pk)
    if seat.status != Seat.DRAWN:
        messages.info(request, _("您已不在该申报的评审专家组中。"))
        return redirect("expert_seats")
    form = DeclarationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        conflict = form.cleaned_data["decision"] == "recuse"
        try:
            panels.seat_declare(
                user=request.user,
                seat=seat,
                conflict=conflict,
                reason=form.cleaned_data["reason"],
                relation_kind=form.cleaned_data["relation_kind"] if conflict else "",
            )
        except ValidationError as error:
            form_errors(form, error)
        except TaskAlreadyDone:
            messages.error(request, _("该评审任务已不再由您办理。"))
            return redirect("expert_seats")
        else:
            if conflict:
                messages.success(request, _("已登记回避，系统已另行抽取专家。"))
                return redirect("expert_seats")
            messages.success(request, _("已声明无利害关系，请评分。"))
            return redirect("seat_score", pk=pk)
    application = seat.application
    return render(
        request,
        "expert_review/seat_declare.html",
        {
            "seat": seat,
            "form": form,
            "institution": application.institution,
            "program_title": application.program_version.title,
            "call": application.call,
        },
    )


@role_required(EXPERT_REVIEW)
def seat_score(request, pk):
    seat = get_object_or_404(reads.seats_of_expert(request.user), pk=pk)
    if seat.status == Seat.DRAWN:
        return redirect("seat_declare", pk=pk)
    if seat.status not in (Seat.DECLARED, Seat.SCORED):
        raise Http404  # recused or replaced: the application is no longer theirs to read
    application = seat.application
    context = {
        "seat": seat,
        "application": application,
        "attachments": application.attachments.filter(superseded=False).select_related(
            "application__program_version"
        ),
    }
    if seat.status == Seat.SCORED:
        given = {score.criterion: score.points for score in seat.scores.all()}
        context["rubric"] = reads.rubric_rows(application, seat.stage_key, given)
        return render(request, "expert_review/seat_score.html", context)
    form = ScoreForm(request.POST or None, rubric=reads.rubric_rows(application, seat.stage_key))
    if request.method == "POST" and form.is_valid():
        try:
            panels.seat_score(
                user=request.user,
                seat=seat,
                points=form.points(),
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as error:
            form.add_service_error(error)
        except TaskAlreadyDone:
            messages.error(request, _("该评审任务已不再由您办理。"))
            return redirect("expert_seats")
        else:
            messages.success(request, _("评分已提交。"))
            return redirect("expert_seats")
    context["form"] = form
    return render(request, "expert_review/seat_score.html", context)


@login_required
def expert_task(request, task_pk):
    """Where an `expert_score` task of the inbox leads: the expert to their seat, a panel
    manager (a vacant seat) to the panel page."""
    seat = (
        reads.seats_of_expert(request.user)
        .filter(task_id=task_pk, status__in=panels.OPEN_SEATS)
        .first()
    )
    if seat is not None:
        return redirect("seat_declare" if seat.status == Seat.DRAWN else "seat_score", pk=seat.pk)
    task = get_object_or_404(selectors.tasks_with_application(), pk=task_pk)
    application = getattr(task.process, "application", None)
    if (
        application is None
        or not selectors.applications_visible_to(request.user).filter(pk=application.pk).exists()
        or not reads.expert_rounds(application.program)
    ):
        raise Http404  # not visible, or a program without experts: no panel to show
    _require_panel_manager(request.user)
    return redirect("panel_detail", pk=application.pk)


# --- staff -------------------------------------------------------------------------------------


def _require_staff(user) -> None:
    if not (user.has_perm(MANAGE_PANELS) or user.has_perm(VIEW_ALL)):
        raise PermissionDenied


def _require_panel_manager(user) -> None:
    if not user.has_perm(MANAGE_PANELS):
        raise PermissionDenied


@login_required
def panel_detail(request, pk):
    application = get_object_or_404(selectors.applications_visible_to(request.user), pk=pk)
    rounds = reads.expert_rounds(application.program)
    if not rounds:
        raise Http404  # the program has no expert review
    _require_staff(request.user)
    drawn = set(application.seats.values_list("stage_key", flat=True).distinct())
    shown = [r["key"] for r in rounds if r["key"] in drawn] or [rounds[0]["key"]]
    return render(
        request,
        "expert_review/panel_detail.html",
        {
            "application": application,
            "panels": [reads.panel_of(application, key) for key in shown],
            "can_manage": request.user.has_perm(MANAGE_PANELS),
        },
    )


@login_required
@require_POST
def panel_replace(request, pk):
    seat = get_object_or_404(
        PanelSeat.objects.filter(
            application__in=selectors.applications_visible_to(request.user).values("pk")
        ),
        pk=pk,
    )
    _require_panel_manager(request.user)
    try:
        new_seat = panels.seat_replace(
            user=request.user, seat=seat, reason=request.POST.get("reason", "")
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    except TaskAlreadyDone:
        messages.error(request, _("该席位的评审已结束。"))
    else:
        if new_seat is None:
            messages.warning(request, _("已替换，但专家库中没有可抽取的专家，该席位暂时空缺。"))
        else:
            messages.success(request, _("已替换逾期专家，并重新抽取了专家。"))
    return redirect("panel_detail", pk=seat.application_id)


@login_required
@require_POST
def panel_vacancy(request, task_pk):
    task = get_object_or_404(selectors.tasks_with_application(), pk=task_pk)
    application = getattr(task.process, "application", None)
    if (
        application is None
        or not selectors.applications_visible_to(request.user).filter(pk=application.pk).exists()
        or not reads.expert_rounds(application.program)
    ):
        raise Http404  # not visible, or a program without experts: no seat to fill or close
    _require_panel_manager(request.user)
    try:
        if request.POST.get("action") == "close":
            panels.vacancy_close(
                user=request.user,
                application=application,
                task=task,
                reason=request.POST.get("reason", ""),
            )
            messages.success(request, _("空缺席位已关闭。"))
        else:
            panels.vacancy_fill(user=request.user, application=application, task=task)
            messages.success(request, _("已为空缺席位抽取专家。"))
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    except TaskAlreadyDone:
        messages.error(request, _("该席位已有专家或已关闭。"))
    return redirect("panel_detail", pk=application.pk)


def _call_rounds(call: Call) -> list[dict]:
    """The expert rounds of the call's program, each with its `advance_top`."""
    program = program_get(call.program_slug).content
    return [
        {**r, "advance_top": stage_by_key(program, r["key"]).get("advance_top", 0)}
        for r in reads.expert_rounds(program)
    ]


def _result(application) -> str:
    if application.round_advanced:
        return str(_("进入下一环节"))
    if application.round_advanced is False:
        return str(_("未进入下一环节"))
    return ""


RANKING_COLUMNS = [
    Column("rank", gettext_lazy("名次"), ("-round_score", "institution__name")),
    Column("institution", gettext_lazy("申报单位"), ("institution__name",)),
    Column("score", gettext_lazy("专家评审得分")),
    Column("scored", gettext_lazy("评分专家数")),
    Column("lowest", gettext_lazy("最低分")),
    Column("highest", gettext_lazy("最高分")),
    Column("spread", gettext_lazy("极差")),
]
RANKING = Listing(
    name=gettext_lazy("专家评审排名"),
    columns=RANKING_COLUMNS,
    default_sort="rank",
    paths={
        "region": APPLICATION_PATHS["region"],
        "status": APPLICATION_PATHS["status"],
        "q": APPLICATION_PATHS["q"],
    },
    statuses=Application.Status.choices,
    export=[
        ExportColumn(gettext_lazy("名次"), lambda a: a.ranking.rank),
        ExportColumn(gettext_lazy("申报单位"), lambda a: a.institution.name),
        ExportColumn(gettext_lazy("统一社会信用代码"), lambda a: a.institution.uscc),
        ExportColumn(gettext_lazy("专家评审得分"), lambda a: a.round_score),
        ExportColumn(gettext_lazy("评分专家数"), lambda a: a.ranking.scored),
        ExportColumn(gettext_lazy("最低分"), lambda a: a.ranking.lowest),
        ExportColumn(gettext_lazy("最高分"), lambda a: a.ranking.highest),
        ExportColumn(gettext_lazy("极差"), lambda a: a.ranking.spread),
        ExportColumn(gettext_lazy("结果"), _result),
    ],
)
# A round that passes only its best N shows what became of each application.
RANKING_WITH_RESULT = replace(
    RANKING, columns=[*RANKING_COLUMNS, Column("result", gettext_lazy("结果"))]
)


@login_required
def ranking(request, call_pk):
    """A call's ranking in one expert round (`?round=<key>`, the first by default), a page at a
    time, filtered, sorted and exported; with `advance_top`, the panel managers close the round
    here."""
    _require_staff(request.user)
    call = get_object_or_404(Call, pk=call_pk)
    rounds = _call_rounds(call)
    if not rounds:
        raise Http404
    chosen = next((r for r in rounds if r["key"] == request.GET.get("round")), rounds[0])
    visible = selectors.applications_visible_to(request.user)
    ranks = reads.round_ranks(call=call, applications=visible, round_key=chosen["key"])
    listing = RANKING_WITH_RESULT if chosen["advance_top"] else RANKING
    listed = listing.run(
        request,
        reads.round_results(call=call, applications=visible, round_key=chosen["key"]),
        decorate=partial(reads.ranking_rows, round_key=chosen["key"], ranks=ranks),
    )
    if isinstance(listed, HttpResponse):
        return listed
    waiting = selectors.applications_awaiting(call, panels.ROUND_NODE, chosen["key"]).count()
    return render(
        request,
        "expert_review/ranking.html",
        {
            "call": call,
            "rounds": rounds,
            "round": chosen,
            "list": listed,
            "open_panels": reads.panels_open_of(
                call=call, applications=visible, round_key=chosen["key"]
            )[:OPEN_PANELS_SHOWN],
            "waiting": waiting,
            "can_manage": request.user.has_perm(MANAGE_PANELS),
        },
    )


@login_required
@require_POST
def round_close(request, call_pk, round_key):
    """Close the round: its best N go on, the others get their written decisions (a background
    job, like the call's decision)."""
    call = get_object_or_404(Call, pk=call_pk)
    _require_panel_manager(request.user)
    back = redirect(f"{reverse('ranking', args=[call.pk])}?round={round_key}")
    try:
        panels.round_close_check(user=request.user, call=call, round_key=round_key)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return back
    told = batch_job_told(
        request,
        round_close_job.enqueue(user_id=request.user.pk, call_id=call.pk, round_key=round_key),
        call=call,
        done=_("本轮评审已结束：进入下一环节的名单已确定，其余申报已印发决定书。"),
        failed=_("确定名单失败，请稍后重试或联系管理员。"),
        running=_("正在印发评审结果决定书，请查看印发进度。"),
    )
    return told or back
