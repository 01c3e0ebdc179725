from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceRecordsConfig(AppConfig):
    name = "apps.service_records"
    verbose_name = _("Service records")

    def ready(self):
        from apps.activities.signals import attendance_completed

        from .receivers import record_from_attendance

        attendance_completed.connect(record_from_attendance, dispatch_uid="record_from_attendance")
