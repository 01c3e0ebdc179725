from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "apps.core"
    verbose_name = _("Platform core")

    def ready(self):
        from django.db.backends.signals import connection_created

        from . import checks  # noqa: F401 - registers the deployment checks
        from .prepared import plan_once
        from .workdays import connect as connect_calendar

        connect_calendar()
        connection_created.connect(plan_once, dispatch_uid="core.prepared.plan_once")
