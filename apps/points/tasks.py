"""Celery tasks: thin wrappers around the points services."""

from celery import shared_task
from django.utils import timezone

from . import services


@shared_task(name="points.sync_year")
def sync_year(year: int | None = None) -> dict:
    """Post what is missing for a year (default: the current one). Safe to run twice."""
    today = timezone.localdate()
    return services.points_sync(year=year or today.year, today=today)
