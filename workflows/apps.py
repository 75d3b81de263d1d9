from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = _("审批流程")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_save

        from . import audit_chain, checks  # noqa: F401  (checks: the program-file system check)
        from .admin import read_only_admin
        from .services.notifications import task_saved

        # A task just created may be work for someone: they are told (services.notifications).
        post_save.connect(task_saved, dispatch_uid="workflows.task_saved")
        read_only_admin()
        # SQLite's audit chain trigger calls a Python function (workflows.audit_chain).
        connection_created.connect(
            audit_chain.register_sqlite, dispatch_uid="workflows.audit_chain_sqlite"
        )
