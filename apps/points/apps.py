from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PointsConfig(AppConfig):
    name = "apps.points"
    verbose_name = _("Points")

    def ready(self):
        from django.db.models.signals import post_migrate, pre_migrate

        from apps.service_records import signals

        from . import receivers, tallies

        signals.record_approved.connect(
            receivers.post_on_approval, dispatch_uid="points.post_on_approval"
        )
        signals.record_unapproved.connect(
            receivers.reverse_on_unapproval, dispatch_uid="points.reverse_on_unapproval"
        )
        pre_migrate.connect(
            tallies.drop_before_migrate, sender=self, dispatch_uid="points_tally_trigger"
        )
        post_migrate.connect(
            tallies.reinstall_after_migrate, sender=self, dispatch_uid="points_tally_trigger"
        )
