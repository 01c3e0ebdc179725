from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PointsConfig(AppConfig):
    name = "apps.points"
    verbose_name = _("Points")

    def ready(self):
        from apps.service_records import signals

        from . import receivers

        signals.record_approved.connect(
            receivers.post_on_approval, dispatch_uid="points.post_on_approval"
        )
        signals.record_unapproved.connect(
            receivers.reverse_on_unapproval, dispatch_uid="points.reverse_on_unapproval"
        )
