"""URL map. viewflow's own process and task lists are not mounted: they show every process to
anyone with a model permission (STACK-NOTES); our inbox and lists go through `selectors`."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from workflows import views
from workflows.views import committee, expert_review, recognition, recommendation

urlpatterns = [
    path("", views.home, name="home"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/signup/", views.signup, name="signup"),
    path("institutions/register/", views.institution_register, name="institution_register"),
    path("calls/", views.call_list, name="call_list"),
    path("calls/<int:call_pk>/apply/", views.application_create, name="application_create"),
    path("calls/<int:call_pk>/leadership/", views.leadership_meeting, name="leadership_meeting"),
    path("calls/<int:call_pk>/manage/", views.call_manage, name="call_manage"),
    path("applications/", views.application_list, name="application_list"),
    path("applications/<int:pk>/", views.application_detail, name="application_detail"),
    path("applications/<int:pk>/edit/", views.application_edit, name="application_edit"),
    path("applications/<int:pk>/submit/", views.application_submit, name="application_submit"),
    path("applications/<int:pk>/review/", views.formal_review, name="formal_review"),
    path("applications/<int:pk>/award-letter/", views.award_letter_issue, name="award_letter"),
    path("applications/<int:pk>/payment/", views.payment_record, name="payment_record"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment_download"),
    path("documents/<int:pk>/", views.document_download, name="document_download"),
    path("verify/", include("documents.urls")),
    path("inbox/", views.inbox, name="inbox"),
    path("tasks/<int:task_pk>/", views.task_detail, name="task_detail"),
    path("finance/", views.finance_list, name="finance_list"),
    path("notices/", views.notice_list, name="notice_list"),
    path("notices/<int:pk>/", views.notice_detail, name="notice_detail"),
    path(
        "notices/<int:notice_pk>/object/<int:application_pk>/",
        views.objection_lodge,
        name="objection_lodge",
    ),
    path("objections/<int:pk>/handle/", views.objection_handle, name="objection_handle"),
    path("objections/<int:pk>/evidence/", views.objection_evidence, name="objection_evidence"),
    path("programs/", views.program_list, name="program_list"),
    path("programs/<slug:slug>/chart/", views.program_chart, name="program_chart"),
    path("recommendation/", include(recommendation.urlpatterns)),
    path("expert-review/", include(expert_review.urlpatterns)),
    path("committee/", include(committee.urlpatterns)),
    path("recognitions/", include(recognition.urlpatterns)),
]
