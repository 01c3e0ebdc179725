from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AwardsConfig(AppConfig):
    name = "apps.awards"
    verbose_name = _("Assessment and awards")
