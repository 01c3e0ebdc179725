"""``python manage.py rollup_year 2025``: the yearly roll-up, here and now.

``--check-tallies`` only compares the year's tallies (what the roll-up reads instead of the
records and the ledger) with a recount; ``--recount-tallies`` rebuilds them before rolling up.
"""

import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from apps.awards.rollup import rollup_run_year
from apps.awards.tallies import tallies_check, tallies_recount


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
        tallies = parser.add_mutually_exclusive_group()
        tallies.add_argument(
            "--check-tallies",
            action="store_true",
            help="only compare the year's tallies with a recount; exit status 1 if they differ",
        )
        tallies.add_argument(
            "--recount-tallies",
            action="store_true",
            help="rebuild the year's tallies from the records and the ledger, then roll up",
        )

    def handle(self, *args, year, organization_ids, parts, check_tallies, recount_tallies, **kw):
        try:
            if check_tallies:
                self.show_differences(year)
                return
            if recount_tallies:
                self.rebuild_tallies(year)
            started = time.perf_counter()
            result = rollup_run_year(year=year, organization_ids=organization_ids, parts=parts)
        except ValidationError as error:
            self.stderr.write(" ".join(error.messages))
            raise SystemExit(2) from None
        self.stdout.write(result.run_message)
        self.stdout.write(
            _("Took %(seconds).1f seconds.") % {"seconds": time.perf_counter() - started}
        )

    def show_differences(self, year: int) -> None:
        found = tallies_check(year=year)
        if found.ok:
            self.stdout.write(
                _("The tallies of %(year)s match a recount of the records and the ledger.")
                % {"year": year}
            )
            return
        self.stdout.write(
            _(
                "The tallies of %(year)s differ from a recount: %(records)d service tallies, "
                "%(points)d points tallies. Rebuild them with --recount-tallies."
            )
            % {"year": year, "records": found.records, "points": found.points}
        )
        for example in found.examples:
            self.stdout.write("  " + self.describe(example))
        raise SystemExit(1)

    @staticmethod
    def describe(example: dict) -> str:
        if example["kind"] == "points":
            return _(
                "Points tally · volunteer %(volunteer)s: kept %(tally)s, recounted %(recount)s"
            ) % {
                "volunteer": example["volunteer_id"],
                "tally": example["tally"],
                "recount": example["recount"],
            }
        if "record_id" in example:
            return _(
                "Record %(record)s (volunteer %(volunteer)s): its ratings columns say "
                "%(tally)s, its evaluations do not"
            ) % {
                "record": example["record_id"],
                "volunteer": example["volunteer_id"],
                "tally": example["tally"],
            }
        return _(
            "Service tally · volunteer %(volunteer)s, team %(team)s: kept %(tally)s, recounted "
            "%(recount)s"
        ) % {
            "volunteer": example["volunteer_id"],
            "team": example["team_key"] or "-",
            "tally": example["tally"],
            "recount": example["recount"],
        }

    def rebuild_tallies(self, year: int) -> None:
        started = time.perf_counter()
        written = tallies_recount(year=year)
        self.stdout.write(
            _(
                "Recounted the tallies of %(year)s: %(records)d service tallies and %(points)d "
                "points tallies in %(seconds).1f seconds."
            )
            % {**written, "year": year, "seconds": time.perf_counter() - started}
        )
