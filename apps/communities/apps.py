from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommunitiesConfig(AppConfig):
    name = "apps.communities"
    verbose_name = _("Communities")

    def ready(self):
        from apps.core.scoping import register_visibility_rule

        from .selectors import volunteer_profile_rule

        # Community staff review the volunteers who registered with their community.
        register_visibility_rule("accounts.VolunteerProfile", volunteer_profile_rule)
