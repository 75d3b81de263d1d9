"""Roles and what each may do. Roles are groups; what a person may see is decided here and in
`selectors`, with guardian object permissions for applicants (one per institution membership)."""

from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

# role key -> (label, model permissions the group holds)
ROLES = {
    "applicant": (_("申报单位经办人"), []),
    "formal_reviewer": (
        _("形式审查员"),
        [
            "workflows.view_all_applications",
            "workflows.formal_review",
            "workflows.manage_panels",
            "workflows.manage_calendar",
        ],
    ),
    "leadership": (
        _("局务会（审议）"),
        ["workflows.view_all_applications", "workflows.leadership_review"],
    ),
    "notice_officer": (
        _("公示与决定经办人"),
        [
            "workflows.view_all_applications",
            "workflows.run_public_notice",
            "workflows.issue_decision",
            "workflows.manage_calendar",
        ],
    ),
    "finance_officer": (
        _("财务人员"),
        ["workflows.view_all_applications", "workflows.disburse"],
    ),
    # Sees only its own region's applications (selectors), so no view_all.
    "city_office": (_("市州局（推荐单位）"), ["workflows.recommend"]),
    # Sees only the applications on its panels, after declaring no conflict.
    "expert": (_("评审专家"), ["workflows.expert_review"]),
    "award_committee": (
        _("评审委员会"),
        ["workflows.view_all_applications", "workflows.committee_vote"],
    ),
    # 等保 2.0's security administrator: unlocks logins and resets second factors (账号安全),
    # and sees no application.
    "security_admin": (_("安全管理员"), ["workflows.manage_accounts"]),
}

# The permission a stage's `role` stands for when a task of that stage waits for someone.
ROLE_TASK_PERMISSION = {
    "formal_reviewer": "workflows.formal_review",
    "leadership": "workflows.leadership_review",
    "notice_officer": "workflows.run_public_notice",
    "finance_officer": "workflows.disburse",
    "city_office": "workflows.recommend",
    "expert": "workflows.expert_review",
    "award_committee": "workflows.committee_vote",
}
APPLICANT_PERMISSION = "workflows.act_for_institution"
VIEW_ALL = "workflows.view_all_applications"
MANAGE_ACCOUNTS = "workflows.manage_accounts"


def roles_sync() -> None:
    """Create the role groups and give each its model permissions (idempotent)."""
    from django.contrib.auth.models import Permission

    for key, (_label, perms) in ROLES.items():
        group, _created = Group.objects.get_or_create(name=key)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(wanted)


def is_staff_role(user) -> bool:
    return user.is_authenticated and user.has_perm(VIEW_ALL)


def second_factor_required(user) -> bool:
    """Whether the account must have a second factor: every account that is not a pure
    applicant (any model permission: staff of any office, experts, leadership, finance, the
    security administrator; superusers and admin-site staff). An applicant holds object
    permissions only. Development may exempt named demo accounts; production never does."""
    from django.conf import settings

    if not user.is_authenticated or not settings.OTP_REQUIRED:
        return False
    if user.get_username() in settings.OTP_SKIP_USERNAMES:
        return False
    return user.is_superuser or user.is_staff or bool(user.get_all_permissions())
