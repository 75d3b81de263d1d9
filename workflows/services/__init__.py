"""Every write the engine itself makes, shared by all stage types: one function per action,
keyword-only, atomic, validated first. Each stage type's own actions are in its package
(`workflows/stages/<type>/services.py`).

- `audit`: the audit trail and the one writer of an application's status;
- `tasks`: finding, checking and starting an application's open task;
- `accounts`: sign-up, institutions and their members;
- `applications`: program versions, drafts, attachments, eligibility, submission;
- `issuing`: official documents through the documents layer, with their audit records.

Errors a user can fix raise `ValidationError` with a Chinese message (translated through gettext);
broken invariants raise a named domain exception.
"""

from .accounts import institution_member_add, institution_register, user_signup
from .applications import (
    application_create,
    application_submit,
    application_update,
    attachment_add,
    attachments_add,
    draft_create,
    program_version_current,
)
from .audit import IllegalTransition, application_move, audit_write, official_text
from .tasks import TaskAlreadyDone, task_can_act

__all__ = [
    "IllegalTransition",
    "TaskAlreadyDone",
    "application_create",
    "draft_create",
    "application_move",
    "application_submit",
    "application_update",
    "attachment_add",
    "attachments_add",
    "audit_write",
    "institution_member_add",
    "institution_register",
    "official_text",
    "program_version_current",
    "task_can_act",
    "user_signup",
]
