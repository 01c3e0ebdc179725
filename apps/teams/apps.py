from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TeamsConfig(AppConfig):
    name = "apps.teams"
    verbose_name = _("Volunteer teams")

    def ready(self):
        from apps.core.scoping import scope_follows

        from .models import Team, TeamMembership

        # A volunteer's teams are kept with their scope (``selectors.active_teams_of``).
        scope_follows(Team, TeamMembership)
