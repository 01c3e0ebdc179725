"""The demo's assessment year: the roll-up, quotas for the two default award categories, one
nomination in its publicity period, one award on the demo volunteer's record and the demo
branch's democratic appraisal.

Idempotent: each step looks for what it would create first. Runs after the demo's records and
points exist, so the roll-up has something to count.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.awards.appraisal import appraisal_save, appraisal_sheet, excellent_allowed
from apps.awards.models import (
    AppraisalGrade,
    AssessmentYear,
    Award,
    AwardCategory,
    AwardKind,
    DemocraticAppraisal,
    Nomination,
    NominationStatus,
    Quota,
    RunStatus,
)
from apps.awards.rollup import rollup_run_year
from apps.organizations.models import PartyOrganization
from apps.service_records.models import RecordStatus, ServiceRecord

DISTRICT, BRANCH = "JC-DH", "JC-DH-DHJD-GY"
#: places per category: (the district's, the branch's)
QUOTAS = {DISTRICT: 5, BRANCH: 2}


def demo_year(today: datetime.date) -> int:
    """Last year when the demo has approved service in it, else this year."""
    last = today.year - 1
    served_last_year = ServiceRecord.objects.filter(
        status=RecordStatus.APPROVED, service_date__year=last
    ).exists()
    return last if served_last_year else today.year


def _rolled_up(year: int, now) -> AssessmentYear:
    assessment_year = AssessmentYear.objects.filter(year=year).first()
    if assessment_year is None or assessment_year.run_status != RunStatus.DONE:
        assessment_year = rollup_run_year(year=year, now=now)
    return assessment_year


def _quotas(assessment_year, categories, organizations, created) -> None:
    for category in categories:
        for code, places in QUOTAS.items():
            _quota, made = Quota.objects.get_or_create(
                assessment_year=assessment_year,
                category=category,
                organization=organizations[code],
                defaults={"places": places},
            )
            created["quotas"] += made


def _nomination(assessment_year, category, branch, rows, secretary, today, created) -> None:
    """The branch's best-ranked member other than the demo volunteer, in publicity."""
    candidates = [r for r in rows if r.member.username != "volunteer" and r.hours > 0]
    if not candidates or Nomination.objects.filter(assessment_year=assessment_year).exists():
        return
    best = min(candidates, key=lambda r: (r.rank or 10**6, -r.hours))
    Nomination.objects.create(
        assessment_year=assessment_year,
        category=category,
        organization=branch,
        volunteer=best.member,
        deeds="常年组织楼道清扫和独居老人陪伴，带动身边党员参与志愿服务（虚构）",
        hours=best.hours,
        points=best.points,
        status=NominationStatus.PUBLICITY,
        publicity_starts_on=today,
        publicity_ends_on=today + datetime.timedelta(days=category.publicity_days - 1),
        nominated_by=secretary,
    )
    created["nominations"] += 1


def _award(assessment_year, volunteer, city_admin, today, created) -> None:
    """An award from the district, entered by the city's staff (Order 67 Art. 9)."""
    name = "东湖区优秀党员志愿者"
    if Award.objects.filter(volunteer=volunteer, name=name).exists():
        return
    international_volunteer_day = datetime.date(assessment_year.year, 12, 5)
    Award.objects.create(
        volunteer=volunteer,
        name=name,
        awarded_on=min(international_volunteer_day, today),
        awarding_unit="中共江城市东湖区委员会",
        assessment_year=assessment_year,
        note="在 12·5 国际志愿者日表彰大会上授予（虚构）",
        created_by=city_admin,
    )
    created["awards"] += 1


def _appraisal(assessment_year, branch, rows, secretary, created) -> None:
    """The best-ranked third excellent, the others qualified."""
    if DemocraticAppraisal.objects.filter(
        assessment_year=assessment_year, organization=branch
    ).exists():
        return
    ranked = sorted(rows, key=lambda r: (r.rank or 10**6, r.member.pk))
    best = {r.member.pk for r in ranked[: excellent_allowed(len(rows))] if r.hours > 0}
    grades = {
        r.member.pk: (
            AppraisalGrade.EXCELLENT if r.member.pk in best else AppraisalGrade.QUALIFIED,
            "志愿服务表现突出" if r.member.pk in best else "",
        )
        for r in rows
    }
    created["appraisals"] = appraisal_save(
        actor=secretary, assessment_year=assessment_year, organization=branch, grades=grades
    )


def seed_awards(*, stdout=None, today: datetime.date | None = None) -> dict:
    now = timezone.now()
    today = today or timezone.localdate(now)
    created = dict.fromkeys(["quotas", "nominations", "awards", "appraisals"], 0)
    organizations = {o.code: o for o in PartyOrganization.objects.filter(code__in=QUOTAS)}
    users = {
        u.username: u
        for u in User.objects.filter(username__in=["city_admin", "branch_secretary", "volunteer"])
    }
    if len(organizations) < len(QUOTAS) or len(users) < 3:
        return created
    year = demo_year(today)
    assessment_year = _rolled_up(year, now)
    if assessment_year.is_closed:
        return created
    categories = list(AwardCategory.objects.active().order_by("order", "name")[:2])
    branch = organizations[BRANCH]
    with transaction.atomic():
        _quotas(assessment_year, categories, organizations, created)
        rows = appraisal_sheet(
            user=users["branch_secretary"], assessment_year=assessment_year, organization=branch
        )
        volunteer_category = next((c for c in categories if c.kind == AwardKind.VOLUNTEER), None)
        if volunteer_category is not None:
            _nomination(
                assessment_year,
                volunteer_category,
                branch,
                rows,
                users["branch_secretary"],
                today,
                created,
            )
        _award(assessment_year, users["volunteer"], users["city_admin"], today, created)
        _appraisal(assessment_year, branch, rows, users["branch_secretary"], created)
    if stdout is not None:
        stdout.write(
            f"评选表彰（{year} 年）：汇总完成，新增名额 {created['quotas']} 个、公示中推荐 "
            f"{created['nominations']} 个、表彰 {created['awards']} 项、民主评议 "
            f"{created['appraisals']} 人"
        )
    return created
