from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceRecordsConfig(AppConfig):
    name = "apps.service_records"
    verbose_name = _("Service records")

    def ready(self):
        from django.db.models.signals import post_migrate, pre_migrate

        from apps.activities.signals import attendance_completed

        from . import tallies
        from .receivers import record_from_attendance

        attendance_completed.connect(record_from_attendance, dispatch_uid="record_from_attendance")
        pre_migrate.connect(
            tallies.drop_before_migrate, sender=self, dispatch_uid="record_tally_triggers"
        )
        post_migrate.connect(
            tallies.reinstall_after_migrate, sender=self, dispatch_uid="record_tally_triggers"
        )
