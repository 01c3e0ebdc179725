"""``python manage.py rollup_year 2025``: the yearly roll-up, here and now."""

import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from apps.awards.rollup import rollup_run_year


class Command(BaseCommand):
    help = "Roll up a year's service for every volunteer, team and organisation."

    def add_arguments(self, parser):
        parser.add_argument("year", type=int)
        parser.add_argument(
            "--organization",
            type=int,
            action="append",
            dest="organization_ids",
            help="only this organisation's subtree (repeat for more)",
        )
        parser.add_argument("--parts", type=int, default=None, help="split into this many parts")

    def handle(self, *args, year, organization_ids, parts, **options):
        started = time.perf_counter()
        try:
            result = rollup_run_year(year=year, organization_ids=organization_ids, parts=parts)
        except ValidationError as error:
            self.stderr.write(" ".join(error.messages))
            raise SystemExit(2) from None
        self.stdout.write(result.run_message)
        self.stdout.write(
            _("Took %(seconds).1f seconds.") % {"seconds": time.perf_counter() - started}
        )
