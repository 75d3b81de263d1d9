"""Accounts and institutions: sign-up, registering an institution, its members; the language a
person reads the site in."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm

from forms.regions import region_clean
from forms.validators import uscc_clean

from ..models import Institution, ReaderLanguage
from ..permissions import APPLICANT_PERMISSION
from .audit import audit_write


@transaction.atomic
def user_signup(*, form):
    """A new account from the sign-up form; every new account starts as an applicant."""
    user = form.save()
    user.groups.add(Group.objects.get(name="applicant"))
    audit_write(actor=user, action="user_signup", data={"user": user.pk})
    return user


@transaction.atomic
def institution_register(
    *, user, name: str, uscc: str, region_code: str, address: str = ""
) -> Institution:
    code = uscc_clean(uscc)
    if Institution.objects.filter(uscc=code).exists():
        raise ValidationError(
            _("该统一社会信用代码已登记，请联系本单位已登记的经办人添加您为成员。"),
            code="uscc_taken",
        )
    region_code = region_clean(region_code)
    institution = Institution.objects.create(
        name=name.strip(), uscc=code, region_code=region_code, address=address
    )
    institution_member_add(institution=institution, user=user, actor=user)
    return institution


def institution_member_add(*, institution: Institution, user, actor) -> None:
    institution.members.add(user)
    assign_perm("workflows.view_institution", user, institution)
    assign_perm(APPLICANT_PERMISSION, user, institution)
    audit_write(
        actor=actor,
        action="institution_member_add",
        data={"institution": institution.pk, "user": user.pk},
    )


def require_member(user, institution: Institution) -> None:
    from ..selectors import member_of

    if not member_of(user, institution):
        raise PermissionDenied


def language_remember(*, user, language: str) -> None:
    """Keep the language a signed-in person chose (one of settings.LANGUAGES; anything else is
    ignored, as Django's language switch ignores it)."""
    if language not in dict(settings.LANGUAGES):
        return
    ReaderLanguage.objects.update_or_create(user=user, defaults={"language": language})


def language_of(user) -> str | None:
    """The language `user` chose, None if they never chose one while signed in."""
    return ReaderLanguage.objects.filter(user_id=user.pk).values_list("language", flat=True).first()
