"""The admin shows viewflow's processes and tasks and the background task results, read-only:
every change to an application's way goes through the services, which write the audit trail;
an edit in the admin would bypass it. `read_only_admin()` runs from the app's `ready()`, after
viewflow and django-tasks registered their own admin classes."""

from django.contrib import admin


class ReadOnly:
    """A ModelAdmin mixin: look, never add, change or delete."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def read_only_admin() -> None:
    from django_tasks_db.models import DBTaskResult
    from viewflow.workflow.models import Process, Task

    for model in (Process, Task, DBTaskResult):
        registered = admin.site._registry.get(model)
        if registered is None or isinstance(registered, ReadOnly):
            continue
        base = type(registered)
        admin.site.unregister(model)
        admin.site.register(model, type(f"ReadOnly{base.__name__}", (ReadOnly, base), {}))
