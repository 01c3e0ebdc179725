"""Celery tasks for the roll-up: thin wrappers that take ids and call ``rollup``."""

from celery import shared_task
from django.core.exceptions import ValidationError
from django.utils import timezone

from . import rollup


@shared_task(name="awards.rollup_part", acks_late=True)
def rollup_part_task(year: int, token: str, part: dict) -> bool:
    """One part of a run; the part that finishes last writes the organisations' rows."""
    try:
        last = rollup.rollup_run_part(year=year, token=token, part=part)
        if last:
            rollup.rollup_finish(year=year, token=token)
    except Exception as error:
        rollup.rollup_fail(year=year, token=token, message=str(error)[:500])
        raise
    return last


@shared_task(name="awards.rollup_previous_year")
def rollup_previous_year() -> str:
    """The yearly schedule (1 January): roll up the year that just ended, unless it is closed."""
    year = timezone.localdate().year - 1
    try:
        assessment_year, parts = rollup.rollup_begin(year=year, now=timezone.now())
    except ValidationError as error:
        return f"{year}: {' '.join(error.messages)}"
    for part in parts:
        rollup_part_task.delay(year, assessment_year.run_token, part)
    return f"{year}: {len(parts)}"
