from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from apps.activities.demo import seed_activities
from apps.care.demo import seed_care
from apps.communities.demo import LOGINS as COMMUNITY_LOGINS
from apps.communities.demo import seed_communities_and_teams
from apps.dashboard.demo_awards import seed_awards
from apps.organizations.demo import DEMO_PASSWORD, LOGINS, seed_organizations_and_people
from apps.points.demo import seed_points
from apps.service_records.demo import seed_records


class Command(BaseCommand):
    help = "Create the demo data set (idempotent) and print the demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, default=200, help="party members to create")
        parser.add_argument(
            "--scale",
            choices=["demo", "city"],
            default="demo",
            help="demo: the small demo set; city: a whole city's year (PostgreSQL only)",
        )
        parser.add_argument(
            "--fraction",
            type=float,
            default=1.0,
            help="with --scale city: build this share of the city (e.g. 0.05 while developing)",
        )

    def handle(self, *args, members, scale="demo", fraction=1.0, **options):
        if scale == "city":
            from apps.awards.citydata import seed_city_command

            seed_city_command(fraction=fraction, stdout=self.stdout, stderr=self.stderr)
            return
        if members < 0:
            self.stderr.write(_("The number of members cannot be negative."))
            raise SystemExit(2)
        created = seed_organizations_and_people(members=members)
        self.stdout.write(
            _(
                "Created: %(organizations)d organisations, %(users)d users, "
                "%(memberships)d memberships, %(roles)d roles."
            )
            % created
        )
        created = seed_communities_and_teams()
        self.stdout.write(
            _(
                "Created: %(communities)d communities, %(teams)d teams, %(pairings)d pairings, "
                "%(profiles)d volunteer profiles, %(reports)d residence reports, %(posts)d "
                "posts, %(claims)d claims, %(pledges)d pledges."
            )
            % created
        )
        created = seed_care()
        self.stdout.write(
            _(
                "Created: %(households)d care households, %(pairings)d household pairings, "
                "%(visits)d visits, %(requests)d service requests, %(events)d request events."
            )
            % created
        )
        # Each prints its own summary line; records before points, so points post for them.
        seed_activities(stdout=self.stdout)
        seed_records(stdout=self.stdout)
        seed_points(stdout=self.stdout)
        seed_awards(stdout=self.stdout)
        self.stdout.write("")
        self.stdout.write(
            _("Demo logins (password for all: %(password)s)") % {"password": DEMO_PASSWORD}
        )
        for login in LOGINS:
            self.stdout.write(f"  {login.username:<24} {login.real_name}  {login.role}")
        for login in COMMUNITY_LOGINS:
            self.stdout.write(f"  {login.username:<24} {login.real_name}  {login.role}")
        self.stdout.write(_("Each community's staff (staff_hb, staff_tq …) use the same password."))
        self.stdout.write(
            _("Members member001 … member%(last)03d use the same password.") % {"last": members}
        )
        self.stdout.write("")
        self.stdout.write(_("Portal: http://127.0.0.1:8000/   Admin: http://127.0.0.1:8000/admin/"))
