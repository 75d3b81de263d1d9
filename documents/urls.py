"""Mounted at /verify/: the public verification page and the staff actions on issued documents."""

from django.urls import path

from . import views

app_name = "documents"

urlpatterns = [
    path("documents/<int:pk>/reissue/", views.document_reissue, name="document_reissue"),
    path("documents/<int:pk>/void/", views.document_void, name="document_void"),
    path("batches/<int:call_pk>/", views.batch_progress, name="batch_progress"),
    path("<str:code>/", views.verify, name="verify"),
]
