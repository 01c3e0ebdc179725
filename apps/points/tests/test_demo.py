import datetime
import io

import pytest

from apps.points.demo import DEFAULT_RULES, seed_points
from apps.points.models import PointsEntry, PointsRule
from apps.points.tests.helpers import category, make_record
from apps.service_records.models import RecordStatus

pytestmark = pytest.mark.django_db


def test_seed_points_is_idempotent(profile, volunteer):
    category("disability")  # a transactional test's flush may have removed the categories
    make_record(volunteer, status=RecordStatus.APPROVED)
    out = io.StringIO()
    first = seed_points(stdout=out, today=datetime.date(2026, 11, 30))
    assert first["rules"] == PointsRule.objects.count() == len(DEFAULT_RULES)
    assert first["records"] == 1 and first["base"] == 1
    assert "积分" in out.getvalue()
    entries = PointsEntry.objects.count()
    again = seed_points(today=datetime.date(2026, 11, 30))
    assert again["rules"] == 0 and PointsEntry.objects.count() == entries
