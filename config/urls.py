"""URL map: the engine and its stages' pages (workflows.urls), the admin, logins, languages, and
under /verify/ the public verification page with the staff's actions on issued documents."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

import documents.urls
from workflows.views import documents as document_views
from workflows.views import language as language_views

urlpatterns = [
    path("i18n/setlang/", language_views.language_set, name="set_language"),
    path("admin/", admin.site.urls),
    path("accounts/login/", language_views.SignIn.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The staff's paths first: the verification page's `<code>/` takes any other.
    path(
        "verify/",
        include(([*document_views.urlpatterns, *documents.urls.urlpatterns], "documents")),
    ),
    path("", include("workflows.urls")),
]
