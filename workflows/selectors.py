"""Every read that depends on who is asking. Each list in the app goes through one of these, so the
visibility rule lives in one place: staff roles see every application (model permission
`view_all_applications`); an applicant sees its institutions' applications through guardian
object permissions on `Institution`."""

import functools
import re
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    BigIntegerField,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    TextField,
    Value,
)
from django.db.models.functions import Cast, Length
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from documents.models import Document
from documents.prepared import Prepared, statement_rows

from .models import (
    Application,
    Attachment,
    AuditRecord,
    Call,
    Expert,
    Institution,
    InstitutionGroupObjectPermission,
    InstitutionUserObjectPermission,
    Notification,
    Objection,
    OfficeRegion,
    PanelSeat,
    Payment,
    PublicNotice,
)
from .permissions import APPLICANT_PERMISSION, VIEW_ALL

RECOMMEND = "workflows.recommend"
EXPERT_REVIEW = "workflows.expert_review"


def _membership(user, institution_ref: str = "pk") -> Exists:
    app_label, codename = APPLICANT_PERMISSION.split(".")
    return Exists(
        InstitutionUserObjectPermission.objects.filter(
            user_id=user.pk,
            permission__codename=codename,
            permission__content_type__app_label=app_label,
            content_object_id=OuterRef(institution_ref),
        )
    )


def member_of(user, institution: Institution) -> bool:
    """`user.has_perm(APPLICANT_PERMISSION, institution)` as guardian answers it (an active
    superuser; else the object permission held directly or through a group), in one query
    instead of guardian's two."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return bool(_MEMBERSHIP(user_id=user.pk, institution_id=institution.pk))


def _member_rows(user_id: int, institution_id: int):
    app_label, codename = APPLICANT_PERMISSION.split(".")
    held = {
        "permission__codename": codename,
        "permission__content_type__app_label": app_label,
        "content_object_id": institution_id,
    }
    direct = InstitutionUserObjectPermission.objects.filter(user_id=user_id, **held)
    through_group = InstitutionGroupObjectPermission.objects.filter(group__user=user_id, **held)
    return direct.values("pk").union(through_group.values("pk"))[:1]


_MEMBERSHIP = Prepared(InstitutionUserObjectPermission, _member_rows)


def institutions_of(user) -> QuerySet[Institution]:
    if not user.is_authenticated:
        return Institution.objects.none()
    return Institution.objects.filter(_membership(user)).order_by("name")


def office_region_of(user) -> OfficeRegion | None:
    """The city a city-office user acts for (None for everyone else)."""
    if not user.is_authenticated or not user.has_perm(RECOMMEND):
        return None
    return OfficeRegion.objects.filter(user_id=user.pk).first()


def applications_visible_to(user) -> QuerySet[Application]:
    """Staff roles: all submitted applications. Applicants: their institutions', drafts
    included. City offices: submitted applications from their region. Experts: applications on
    their panels once they declared no conflict. A draft is the applicant's own until it is
    submitted (its bank account and contacts with it): no office sees it."""
    base = Application.objects.select_related("call", "institution", "program_version")
    if not user.is_authenticated:
        return base.none()
    rule = Q(_membership(user, "institution_id"))
    if user.has_perm(VIEW_ALL):
        return base.filter(rule | ~Q(status=Application.Status.DRAFT))
    region = office_region_of(user)
    if region is not None:
        rule |= Q(institution__region_code__startswith=region.prefix) & ~Q(
            status=Application.Status.DRAFT
        )
    if user.has_perm(EXPERT_REVIEW):
        rule |= Q(
            Exists(
                PanelSeat.objects.filter(
                    application=OuterRef("pk"),
                    expert__user_id=user.pk,
                    status__in=[PanelSeat.Status.DECLARED, PanelSeat.Status.SCORED],
                )
            )
        )
    return base.filter(rule)


@dataclass(frozen=True)
class HoldersOf:
    """Recipients: the active users holding a model permission (a superuser, or the permission
    held directly or through a group: `User.objects.with_perm` under ModelBackend)."""

    permission: str


@dataclass(frozen=True)
class MembersOf:
    """Recipients: the active members of an institution."""

    institution_id: int


@dataclass(frozen=True)
class Among:
    """Recipients: those of these active users."""

    pks: tuple[int, ...]


def recipients_seeing(
    rule: HoldersOf | MembersOf | Among, application: Application, *, untold_under: str = ""
) -> list[tuple[int, str]]:
    """(pk, email) of the users `rule` names who may see `application` under
    `applications_visible_to`'s rule and, with `untold_under`, hold no message under that
    dedupe key yet: one statement (`recipients_where`)."""
    where = recipients_where(rule, application, untold_under=untold_under)
    if where is None:
        return []
    sql, params = where
    return statement_rows(f"SELECT u.id, u.email {sql}", params)


def recipients_where(
    rule: HoldersOf | MembersOf | Among, application: Application, *, untold_under: str = ""
) -> tuple[str, list] | None:
    """`FROM auth_user u WHERE …` (and its parameters) naming the users of `recipients_seeing`,
    for a statement that reads them or writes a message to each (notifications.notify); None
    when `rule` names nobody.

    Hand-written SQL, because this runs for every message of every transition and Django spends
    longer building the equivalent query (a dozen correlated subqueries) than the database
    spends answering it. It states `applications_visible_to` for every role at once: staff
    holding VIEW_ALL, the institution's members, a city office of the institution's region, an
    expert seated on the application's panel (tests.workflows.test_notifications compares the
    two rules user by user)."""
    if isinstance(rule, HoldersOf):
        candidates, among = "holders", _permission_params(rule.permission) * 2
    elif isinstance(rule, MembersOf):
        candidates, among = "members", [rule.institution_id]
    else:
        if not rule.pks:
            return None
        candidates, among = len(rule.pks), list(rule.pks)
    draft = application.status == Application.Status.DRAFT
    view_all = _permission_params(VIEW_ALL) * 2
    member = [*_permission_params(APPLICANT_PERMISSION), application.institution_id]
    seated = [*_permission_params(EXPERT_REVIEW) * 2, application.pk, *_SEATED]
    if draft:
        sees = [*member, *view_all, *seated]
    else:
        region = [*_permission_params(RECOMMEND) * 2, application.institution_id]
        sees = [*view_all, *member, *seated, *region]
    untold = [untold_under] if untold_under else []
    return _recipients_sql(candidates, bool(untold_under), draft), [*among, *sees, *untold]


_SEATED = [PanelSeat.Status.DECLARED, PanelSeat.Status.SCORED]


def _permission_params(permission: str) -> list[str]:
    return permission.split(".")


@functools.cache
def _recipients_sql(candidates: str | int, untold: bool, draft: bool) -> str:
    """The SQL of `recipients_where`. Its parameters, in order: the candidates' (the permission
    held, as app label and codename, twice for "holders"; the institution for "members"; the
    users' pks when `candidates` is their number); then, for `draft`, APPLICANT_PERMISSION's
    and the application's institution, VIEW_ALL's twice, and EXPERT_REVIEW's twice with the
    application and the seat statuses; otherwise VIEW_ALL's twice, APPLICANT_PERMISSION's and
    the institution, EXPERT_REVIEW's twice with the application and the seat statuses, and
    RECOMMEND's twice with the institution; last, the dedupe key (`untold`). A permission is
    its app label and codename."""
    user = get_user_model()
    user_permissions = user.user_permissions.through._meta.db_table
    user_groups = user.groups.through._meta.db_table
    group_permissions = Group.permissions.through._meta.db_table

    def permission(alias: str) -> str:
        return (
            f"SELECT {alias}.id FROM {Permission._meta.db_table} {alias}"
            f" JOIN {ContentType._meta.db_table} {alias}_ct"
            f" ON {alias}_ct.id = {alias}.content_type_id"
            f" WHERE {alias}_ct.app_label = %s AND {alias}.codename = %s"
        )

    def held(alias: str) -> str:
        """`user.has_perm` of a model permission: a superuser, or the permission held directly
        or through a group."""
        return (
            f"(u.is_superuser OR EXISTS (SELECT 1 FROM {user_permissions} {alias}_u"
            f" WHERE {alias}_u.user_id = u.id AND {alias}_u.permission_id IN"
            f" ({permission(alias + '_up')}))"
            f" OR EXISTS (SELECT 1 FROM {user_groups} {alias}_g JOIN {group_permissions} {alias}_gp"
            f" ON {alias}_gp.group_id = {alias}_g.group_id WHERE {alias}_g.user_id = u.id"
            f" AND {alias}_gp.permission_id IN ({permission(alias + '_gp')})))"
        )

    if candidates == "holders":
        among = held("h")
    elif candidates == "members":
        among = (
            f"EXISTS (SELECT 1 FROM {Institution.members.through._meta.db_table} im"
            " WHERE im.user_id = u.id AND im.institution_id = %s)"
        )
    else:
        among = f"u.id IN ({', '.join(['%s'] * candidates)})"
    view_all = held("va")
    member = (
        f"EXISTS (SELECT 1 FROM {InstitutionUserObjectPermission._meta.db_table} m"
        f" WHERE m.user_id = u.id AND m.permission_id IN ({permission('m_p')})"
        " AND m.content_object_id = %s)"
    )
    seated = (
        f"{held('ex')} AND EXISTS (SELECT 1 FROM {PanelSeat._meta.db_table} ps"
        f" JOIN {Expert._meta.db_table} e ON e.id = ps.expert_id"
        " WHERE ps.application_id = %s AND e.user_id = u.id AND ps.status IN (%s, %s))"
    )
    if draft:
        # A draft is its institution's alone: VIEW_ALL settles a user's rule without the
        # office's or the expert's part, and an office never sees a draft.
        sees = f"{member} OR (NOT {view_all} AND {seated})"
    else:
        region = (
            f"{held('rc')} AND EXISTS (SELECT 1 FROM {OfficeRegion._meta.db_table} r"
            f" JOIN {Institution._meta.db_table} i ON i.region_code LIKE"
            " (SUBSTR(r.region_code, 1, 4) || '%%')"
            " WHERE r.user_id = u.id AND i.id = %s)"
        )
        sees = f"{view_all} OR {member} OR ({seated}) OR ({region})"
    statement = f"FROM {user._meta.db_table} u WHERE u.is_active AND {among} AND ({sees})"
    if untold:
        statement += (
            f" AND NOT EXISTS (SELECT 1 FROM {Notification._meta.db_table} n"
            " WHERE n.recipient_id = u.id AND n.dedupe_key = %s)"
        )
    return statement


def attachments_visible_to(user) -> QuerySet[Attachment]:
    return Attachment.objects.filter(application__in=applications_visible_to(user).values("pk"))


def documents_visible_to(user) -> QuerySet[Document]:
    base = Document.objects.select_related("call", "institution", "application")
    if not user.is_authenticated:
        return base.none()
    if user.has_perm(VIEW_ALL):
        return base
    own = Q(institution__isnull=False) & Q(_membership(user, "institution_id"))
    # A batch decision is issued to every institution on its list.
    listed = Application.objects.filter(
        _membership(user, "institution_id"), status__in=DECIDED_STATUSES
    ).values("call_id")
    return base.filter(own | Q(application__isnull=True, call_id__in=listed))


DECIDED_STATUSES = [
    Application.Status.DECIDED,
    Application.Status.LETTER_ISSUED,
    Application.Status.PAID,
]


def objections_visible_to(user) -> QuerySet[Objection]:
    base = Objection.objects.select_related("application__institution", "lodged_by")
    if not user.is_authenticated:
        return base.none()
    if user.has_perm(VIEW_ALL):
        return base
    return base.filter(lodged_by=user)


def objections_pending_for(application: Application) -> bool:
    return application.objections.filter(status=Objection.Status.PENDING).exists()


def objections_pending_on(notice: PublicNotice) -> bool:
    return Objection.objects.filter(
        application__public_notice=notice, status=Objection.Status.PENDING
    ).exists()


def call_applications(call: Call) -> QuerySet[Application]:
    """The call's submitted applications for its page, by institution (a draft is its
    applicant's own until submitted; the status counts still say how many there are)."""
    return (
        call.applications.exclude(status=Application.Status.DRAFT)
        .select_related("institution", "program_version")
        .order_by("institution__name", "pk")
    )


def payment_of(application: Application) -> Payment | None:
    """The payment recorded for the application (shown to whoever may see the application)."""
    return Payment.objects.filter(application=application).first()


def outcome_reason(application: Application) -> str:
    """Why the application is where it is now (the reason given with its last status change),
    for the applicant: a city's refusal to recommend, a rejection, an upheld objection."""
    record = (
        application.audit.filter(to_status=application.status)
        .exclude(reason="")
        .order_by("-created_at", "-pk")
        .first()
    )
    return record.reason_shown if record else ""


def audit_of(application: Application) -> QuerySet[AuditRecord]:
    return application.audit.select_related("actor").order_by("created_at", "pk")


def calls_all() -> QuerySet[Call]:
    return Call.objects.order_by("-opens_at")


def calls_of(applications: QuerySet[Application]) -> QuerySet[Call]:
    return Call.objects.filter(pk__in=applications.values("call_id"))


def call_status_counts(call: Call) -> dict[str, int]:
    """{status label: number of the call's applications}, in one query."""
    rows = dict(call.applications.values_list("status").annotate(n=Count("pk")))
    return {label: rows.get(value, 0) for value, label in Application.Status.choices}


def status_counts(applications: QuerySet[Application]) -> list[tuple[str, str, int]]:
    """(status, label, number) of the statuses present among `applications`, in the order of
    the way through a program, in one query."""
    rows = dict(applications.order_by().values_list("status").annotate(n=Count("pk")))
    return [
        (value, label, rows[value])
        for value, label in Application.Status.choices
        if rows.get(value)
    ]


BATCH_DECISIONS = [
    Document.Kind.FUNDING_DECISION,
    Document.Kind.RECOGNITION_DECISION,
    Document.Kind.COMMENDATION_DECISION,
]


def call_decision(call: Call) -> Document | None:
    return _CALL_DECISION.first(call_id=call.pk)


_CALL_DECISION = Prepared(
    Document,
    lambda call_id: Document.objects.filter(
        call_id=call_id, kind__in=BATCH_DECISIONS, application__isnull=True
    ).order_by(*Document._meta.ordering)[:1],
)


def applications_awaiting(
    call: Call, local_name: str, stage_key: str | None = None
) -> QuerySet[Application]:
    """The call's applications whose process waits at a node called `local_name` in its stage
    (of any stage of that type, or of the stage `stage_key`)."""
    from .flows import nodes_named

    return applications_at(call.pk, nodes_named(call.program_slug, local_name, stage_key))


def applications_at(call_id: int, nodes: list) -> QuerySet[Application]:
    """`applications_awaiting` for the nodes given (objects or their references)."""
    waiting = Task.objects.filter(
        process_id=OuterRef("process_id"), flow_task__in=nodes, status=STATUS.NEW
    )
    return (
        Application.objects.filter(call_id=call_id)
        .filter(Exists(waiting))
        .select_related("institution", "program_version")
        .order_by("pk")
    )


def tasks_waiting(call: Call, local_name: str) -> QuerySet[Task]:
    """The open tasks of the call's applications at nodes called `local_name` in their stage,
    with their applications, oldest first."""
    from .flows import nodes_named

    return _tasks_waiting(call.pk, nodes_named(call.program_slug, local_name))


def tasks_waiting_list(call: Call, local_name: str) -> list[Task]:
    """`tasks_waiting`, read with SQL compiled once (a step reads it on every run)."""
    from .flows import node_refs

    return _TASKS_WAITING(call_id=call.pk, nodes=node_refs(call.program_slug, local_name))


def _tasks_waiting(call_id: int, nodes: list) -> QuerySet[Task]:
    return (
        Task.objects.filter(
            process__application__call_id=call_id,
            flow_task__in=nodes,
            status__in=[STATUS.NEW, STATUS.ASSIGNED],
        )
        .select_related(
            "process__application__institution", "process__application__program_version"
        )
        .order_by("created", "pk")
    )


_TASKS_WAITING = Prepared(Task, _tasks_waiting)


def tasks_with_application() -> QuerySet[Task]:
    return Task.objects.select_related("process__application")


def calls_open(at=None) -> QuerySet[Call]:
    at = at or timezone.now()
    return Call.objects.filter(opens_at__lte=at, closes_at__gt=at).order_by("closes_at")


def public_notices() -> QuerySet[PublicNotice]:
    """Published notices, for everyone (no login)."""
    return PublicNotice.objects.select_related("call").order_by("-starts_at")


def notice_entries(notice: PublicNotice) -> QuerySet[Application]:
    """The names on a public notice: applications withdrawn after an objection drop out."""
    return (
        notice.applications.exclude(status=Application.Status.WITHDRAWN)
        .select_related("institution", "program_version")
        .order_by("institution__name")
    )


def tasks_actionable_by(user) -> QuerySet[Task]:
    """The inbox: human tasks waiting for this user, in a constant number of queries.

    viewflow's own `user_queue()` resolves object permissions row by row (STACK-NOTES: 5,006
    queries for 2,500 permissions); here one `Exists` subquery does it in SQL.
    """
    if not user.is_authenticated:
        return Task.objects.none()
    model_perms = sorted(user.get_all_permissions())
    app_label, codename = APPLICANT_PERMISSION.split(".")
    object_perm = Exists(
        InstitutionUserObjectPermission.objects.filter(
            user_id=user.pk,
            permission__codename=codename,
            permission__content_type__app_label=app_label,
            content_object_id=Cast(OuterRef("owner_permission_obj_pk"), BigIntegerField()),
        )
    )
    waiting = Q(owner__isnull=True, status=STATUS.NEW)
    by_role = [perm for perm in model_perms if perm != RECOMMEND]
    by_region = Q(pk__in=[])
    region = office_region_of(user)
    if region is not None:
        # A city office recommends only for institutions of its own region.
        by_region = Q(
            owner_permission=RECOMMEND,
            process__application__institution__region_code__startswith=region.prefix,
        )
    return (
        Task.objects.filter(flow_task_type="HUMAN", status__in=[STATUS.NEW, STATUS.ASSIGNED])
        .filter(
            Q(owner_id=user.pk)
            | (waiting & Q(owner_permission__in=by_role, owner_permission_obj_pk__isnull=True))
            | (waiting & by_region)
            | (waiting & Q(owner_permission=APPLICANT_PERMISSION) & object_perm)
        )
        .select_related(
            "process__application__institution",
            "process__application__call",
            "process__application__program_version",
        )
        .order_by("created", "pk")
    )


def notifications_of(user) -> QuerySet[Notification]:
    """A person's own messages, newest first (nobody reads another's)."""
    if not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(recipient_id=user.pk).order_by("-created_at", "-pk")


def notifications_unread_count(user) -> int:
    return notifications_of(user).filter(read_at__isnull=True).count()


# --- account security (the security administrator's page) ---------------------------------------


def _login_attempts_recent():
    """django-axes' failed attempts still inside the cool-off (older ones lock nothing)."""
    from axes.helpers import get_cool_off
    from axes.models import AccessAttempt

    attempts = AccessAttempt.objects.all()
    cool_off = get_cool_off()
    if cool_off is not None:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - cool_off)
    return attempts


def login_failures_by_username(usernames) -> dict[str, int]:
    """Recent failed logins per login name (django-axes counts a name's failures from every
    address); a name with AXES_FAILURE_LIMIT or more is locked."""
    from django.db.models import Sum

    rows = (
        _login_attempts_recent()
        .filter(username__in=list(usernames))
        .values("username")
        .annotate(failures=Sum("failures_since_start"))
    )
    return {row["username"]: row["failures"] for row in rows}


def login_locked_addresses() -> list[dict]:
    """Addresses locked by django-axes: their recent failed logins (any login name) reached
    AXES_FAILURE_LIMIT. Each: ip_address, failures, last (the latest attempt), usernames."""
    from django.conf import settings
    from django.db.models import Max, Sum

    rows = (
        _login_attempts_recent()
        .values("ip_address")
        .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
        .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
        .order_by("-last")
    )
    return list(rows)


def login_failures_by_address(ip_address: str) -> int:
    from django.db.models import Sum

    total = _login_attempts_recent().filter(ip_address=ip_address)
    return total.aggregate(n=Sum("failures_since_start"))["n"] or 0


def accounts_for_security(*, q: str = "", enrolled: str = "", locked: str = "") -> QuerySet:
    """Every account, for the security administrator: searched by login name or name, and
    filtered by whether a confirmed authenticator exists ("yes"/"no") and whether django-axes
    locked the login name ("yes")."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django_otp.plugins.otp_totp.models import TOTPDevice

    users = get_user_model().objects.annotate(
        has_second_factor=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True))
    )
    if q:
        users = users.filter(
            Q(username__icontains=q)
            | Q(first_name__icontains=q)
            | Q(last_name__icontains=q)
            | Q(email__icontains=q)
        )
    if enrolled in ("yes", "no"):
        users = users.filter(has_second_factor=enrolled == "yes")
    if locked == "yes":
        from django.db.models import Sum

        locked_names = (
            _login_attempts_recent()
            .values("username")
            .annotate(failures=Sum("failures_since_start"))
            .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
            .values("username")
        )
        users = users.filter(username__in=locked_names)
    return users.prefetch_related("groups").order_by("username")


ACCOUNT_AUDIT_ACTIONS = [
    "second_factor_enrol",
    "second_factor_disable",
    "recovery_codes_regenerate",
    "second_factor_reset",
    "login_unlock",
]


def account_audit(user) -> QuerySet[AuditRecord]:
    """The audit records of an account's security: its second factor, resets, unlocks."""
    return (
        AuditRecord.objects.filter(action__in=ACCOUNT_AUDIT_ACTIONS)
        .filter(Q(data__user=user.pk) | Q(data__username=user.get_username()))
        .select_related("actor")
        .order_by("-created_at", "-pk")
    )


# Where the system holds a person's name: account holders, contacts, objectors, experts. An
# account may also be an office's ("财务处"): its name counts only when it reads as a person's.
PERSONAL_NAME_COLUMNS = (
    (get_user_model(), "first_name", True),
    (Application, "contact_name", False),
    (Objection, "real_name", False),
    (Expert, "name", False),
)


def personal_names_in(text: str) -> list[str]:
    """The names of people the system knows that occur in `text` (spaces ignored), longest
    first, read in one statement (names of one character are too common to tell apart from
    words)."""
    from documents.redaction import reads_as_a_name

    if not text:
        return []
    # 赵 六 is 赵六: spaces (and full-width ones) inside a name do not hide it.
    probe = Value(re.sub(r"\s", "", text), output_field=TextField())
    found = [
        model.objects.annotate(_name_length=Length(column), _text=probe, _account=Value(account))
        .filter(_name_length__gte=2, _text__contains=F(column))
        .order_by()
        .values_list(column, "_account")
        for model, column, account in PERSONAL_NAME_COLUMNS
    ]
    names = {
        name.strip()
        for name, account in found[0].union(*found[1:])
        if name.strip() and (not account or reads_as_a_name(name.strip()))
    }
    return sorted(names, key=len, reverse=True)
