"""The menu entries of the stage packages (`NAV` in their `urls.py`) the user may follow."""

from .stages import stage_modules


def stage_nav(request) -> dict:
    user = request.user
    entries = []
    for _stage_type, module in stage_modules("urls"):
        for perm, url_name, label in getattr(module, "NAV", []):
            if perm is None or (user.is_authenticated and user.has_perm(perm)):
                entries.append({"url_name": url_name, "label": label})
    return {"stage_nav": entries}
