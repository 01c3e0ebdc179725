"""Demo data for points: the default rules (from 2025-01-01) and this year's points."""

import datetime

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import ServiceCategory
from apps.core.services import audit_log

from . import services
from .models import PointsRule, RuleKind

START = datetime.date(2025, 1, 1)
#: (kind, category code, stars, points, caps)
DEFAULT_RULES = [
    (RuleKind.HOUR, None, None, "1", {"cap_per_day": "10"}),
    (RuleKind.HOUR, "elderly", None, "1.2", {"cap_per_day": "12"}),
    (RuleKind.HOUR, "disability", None, "1.2", {"cap_per_day": "12"}),
    (RuleKind.ACTIVITY, None, None, "0.5", {"cap_per_year": "50"}),
    (RuleKind.BASE, None, None, "5", {}),
    (RuleKind.TRAINING, None, None, "0.5", {"cap_per_year": "20"}),
    (RuleKind.PLEDGE, None, None, "2", {}),
    (RuleKind.VISIT, None, None, "1", {"cap_per_day": "2"}),
    (RuleKind.RATING, None, 5, "1", {}),
    (RuleKind.RATING, None, 1, "-1", {}),
    (RuleKind.BONUS, None, None, "10", {"cap_per_year": "30"}),
    (RuleKind.DEDUCTION, None, None, "-10", {}),
]


@transaction.atomic
def _default_rules() -> int:
    created = 0
    categories = {c.code: c for c in ServiceCategory.objects.all()}
    for kind, code, stars, points, caps in DEFAULT_RULES:
        category = categories.get(code) if code else None
        if code and category is None:
            continue
        series = PointsRule.objects.series(
            kind=kind, category_id=category.pk if category else None, stars=stars
        )
        if series.exists():
            continue
        rule = PointsRule(
            kind=kind,
            category=category,
            stars=stars,
            points=points,
            effective_from=START,
            note="默认规则（示例数据）",
            **caps,
        )
        rule.full_clean()
        rule.save()
        audit_log(actor=None, action="points_rule.create", target=rule, details={"demo": True})
        created += 1
    return created


def seed_points(*, stdout=None, today: datetime.date | None = None) -> dict:
    """The default rules, then the points of the current year. Safe to run twice."""
    today = today or timezone.localdate()
    created = _default_rules()
    posted = services.points_sync(year=today.year, today=today)
    if stdout is not None:
        stdout.write(
            f"积分：新增规则 {created} 条，记入积分 {sum(posted.values())} 条（{today.year} 年）"
        )
    return {"rules": created, **posted}
