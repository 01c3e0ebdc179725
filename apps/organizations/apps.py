from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganizationsConfig(AppConfig):
    name = "apps.organizations"
    verbose_name = _("Party organisations")

    def ready(self):
        from apps.core.scoping import register_visibility_rule

        from . import receivers
        from .selectors import user_visibility_rule, volunteer_profile_rule

        receivers.connect()

        register_visibility_rule("accounts.User", user_visibility_rule)
        register_visibility_rule("accounts.VolunteerProfile", volunteer_profile_rule)
