"""Fixtures for the service record tests.

``recworld`` is the shared ``world`` plus the volunteer as a member of the branch's team and a
record of the volunteer's in each status, in the team and in 桂园社区.
"""

from types import SimpleNamespace

import pytest

from apps.service_records.models import Evaluation, RaterKind, RecordStatus
from apps.service_records.tests.helpers import NOW, at, join_team, make_record


@pytest.fixture
def recworld(world):
    w = world
    join_team(w.cast.volunteer, w.team)
    common = {"team": w.team, "community": w.community, "organization": w.tree.branch}
    w.submitted = make_record(w.cast.volunteer, start=at("2026-11-02", 9), **common)
    w.approved = make_record(
        w.cast.volunteer,
        start=at("2026-11-03", 9),
        status=RecordStatus.APPROVED,
        reviewed_by=w.cast.team_leader,
        reviewed_at=NOW,
        **common,
    )
    w.rejected = make_record(
        w.cast.volunteer,
        start=at("2026-11-04", 9),
        status=RecordStatus.REJECTED,
        review_note="时间不对",
        **common,
    )
    w.evaluation = Evaluation.objects.create(
        record=w.approved, rater_kind=RaterKind.RESIDENT, stars=5, comment="很好"
    )
    return w


@pytest.fixture
def clock():
    return SimpleNamespace(now=NOW, at=at)
