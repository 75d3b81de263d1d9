"""What every page's header shows: the menu entries of the stage packages (`NAV` in their
`urls.py`) the user may follow, and the number of the user's unread messages."""

from .stages import stage_modules


def stage_nav(request) -> dict:
    user = request.user
    entries = []
    for _stage_type, module in stage_modules("urls"):
        for perm, url_name, label in getattr(module, "NAV", []):
            if perm is None or (user.is_authenticated and user.has_perm(perm)):
                entries.append({"url_name": url_name, "label": label})
    return {"stage_nav": entries}


def unread_messages(request) -> dict:
    from .selectors import notifications_unread_count

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_messages": 0}
    return {"unread_messages": notifications_unread_count(user)}
