"""The two tallies the roll-up reads, recounted or checked together for a year.

The database keeps them as records, ratings and ledger entries are written
(``apps.service_records.tallies``, ``apps.points.tallies``); these are the tools for when that
is in doubt: a check that lists what differs from a recount, and the recount itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from apps.awards.rollup import _check_year, _today
from apps.points.tallies import points_tally_differences, points_tally_recount
from apps.service_records.tallies import record_tally_differences, record_tally_recount


@dataclass
class TallyCheck:
    records: int = 0  # (volunteer, year, team) tallies that differ from their records
    points: int = 0  # (volunteer, year) tallies that differ from the ledger
    examples: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.records or self.points)


def tallies_check(*, year: int, limit: int = 10, now=None) -> TallyCheck:
    """Compare a year's tallies with a recount (nothing is written)."""
    _check_year(year, today=_today(now))
    records, record_examples = record_tally_differences(year=year, limit=limit)
    points, point_examples = points_tally_differences(year=year, limit=limit)
    return TallyCheck(
        records=records,
        points=points,
        examples=[{"kind": "records", **row} for row in record_examples]
        + [{"kind": "points", **row} for row in point_examples],
    )


def tallies_recount(*, year: int, now=None) -> dict:
    """Rebuild a year's tallies from the records, their evaluations and the ledger."""
    _check_year(year, today=_today(now))
    return {
        "records": record_tally_recount(year=year),
        "points": points_tally_recount(year=year),
    }
