from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AwardsConfig(AppConfig):
    name = "apps.awards"
    verbose_name = _("Assessment and awards")

    def ready(self):
        from apps.core.export_jobs import register_exporter

        from .exports import AssessmentExporter

        register_exporter(AssessmentExporter)
