"""Mounted at /verify/ (namespace "documents"): the public verification page. The engine adds
its staff actions on issued documents under the same prefix (config/urls.py)."""

from django.urls import path

from . import views

app_name = "documents"

urlpatterns = [
    path("", views.verify_lookup, name="verify_lookup"),
    path("<str:code>/", views.verify, name="verify"),
]
