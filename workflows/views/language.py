"""The language switch and signing in: the language a signed-in person chooses is kept (their
emails are written in it) and comes back when they sign in on a browser that never chose one."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.views.i18n import set_language

from ..services.accounts import language_of, language_remember


def language_set(request):
    """Django's language switch (the cookie, the redirect), and a signed-in person's choice
    kept."""
    response = set_language(request)
    if request.method == "POST" and request.user.is_authenticated:
        language_remember(user=request.user, language=request.POST.get("language", ""))
    return response


class SignIn(auth_views.LoginView):
    """Django's login. A browser that was switched to a language (its cookie) keeps it, and it
    becomes the person's choice: the page they signed in on reads in it. A browser that never
    was (a new one) takes the language the person chose before."""

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.get_user()
        browser = self.request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if browser:
            language_remember(user=user, language=browser)
            return response
        chosen = language_of(user)
        if chosen is not None:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                chosen,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH,
                domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        return response
