"""The engine's pages and, after them, every stage package's own (`stages/<type>/urls.py`).
viewflow's own process and task lists are not mounted: they show every process to anyone with a
model permission (STACK-NOTES); our inbox and lists go through `selectors`."""

from django.urls import path

from . import views
from .stages import stage_modules
from .views import accounts, notifications
from .views import statistics as statistics_views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/signup/", views.signup, name="signup"),
    # The second factor after the password, enrolling it, its recovery codes; one's own
    # account security; the security administrator's pages over every account.
    path("accounts/two-factor/", accounts.second_factor_verify, name="second_factor_verify"),
    path("accounts/two-factor/setup/", accounts.second_factor_setup, name="second_factor_setup"),
    path(
        "accounts/two-factor/recovery-codes/",
        accounts.second_factor_recovery_codes,
        name="second_factor_recovery_codes",
    ),
    path("accounts/security/", accounts.account_security, name="account_security"),
    path(
        "accounts/security/recovery-codes/",
        accounts.recovery_codes_regenerate,
        name="recovery_codes_regenerate",
    ),
    path(
        "accounts/security/disable/",
        accounts.second_factor_disable,
        name="second_factor_disable",
    ),
    path("security/accounts/", accounts.account_list, name="account_list"),
    path("security/accounts/<int:pk>/", accounts.account_detail, name="account_detail"),
    path(
        "security/accounts/<int:pk>/second-factor/reset/",
        accounts.account_second_factor_reset,
        name="account_second_factor_reset",
    ),
    path("security/accounts/<int:pk>/unlock/", accounts.account_unlock, name="account_unlock"),
    path("security/addresses/unlock/", accounts.address_unlock, name="address_unlock"),
    path("institutions/register/", views.institution_register, name="institution_register"),
    path("calls/", views.call_list, name="call_list"),
    path("calls/all/", views.staff_call_list, name="staff_call_list"),
    path("calls/<int:call_pk>/apply/", views.application_create, name="application_create"),
    path("calls/<int:call_pk>/manage/", views.call_manage, name="call_manage"),
    path("applications/", views.application_list, name="application_list"),
    path("applications/<int:pk>/", views.application_detail, name="application_detail"),
    path("applications/<int:pk>/edit/", views.application_edit, name="application_edit"),
    path("applications/<int:pk>/submit/", views.application_submit, name="application_submit"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment_download"),
    path("documents/", views.document_list, name="document_list"),
    path("documents/<int:pk>/", views.document_download, name="document_download"),
    path("inbox/", views.inbox, name="inbox"),
    path("tasks/<int:task_pk>/", views.task_detail, name="task_detail"),
    path("programs/", views.program_list, name="program_list"),
    path("calendar/", views.holiday_calendar, name="holiday_calendar"),
    path("programs/<slug:slug>/chart/", views.program_chart, name="program_chart"),
    path("programs/<slug:slug>/rehearsal/", views.program_rehearsal, name="program_rehearsal"),
    path("statistics/", statistics_views.statistics, name="statistics"),
    path("messages/", notifications.notification_list, name="notification_list"),
    path(
        "messages/<int:pk>/read/",
        notifications.notification_mark_read,
        name="notification_mark_read",
    ),
    path(
        "messages/read/",
        notifications.notification_mark_all_read,
        name="notification_mark_all_read",
    ),
]

for _stage_type, _module in stage_modules("urls"):
    urlpatterns += _module.urlpatterns
