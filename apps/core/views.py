import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


def _database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        logger.warning("health check: database unreachable", exc_info=True)
        return "down"
    return "ok"


def _broker_status() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER or not settings.REDIS_URL:
        return "in-process"
    import redis

    try:
        client = redis.Redis.from_url(
            settings.CELERY_BROKER_URL,
            socket_connect_timeout=settings.HEALTHZ_BROKER_TIMEOUT,
            socket_timeout=settings.HEALTHZ_BROKER_TIMEOUT,
        )
        client.ping()
    except Exception:
        logger.warning("health check: broker unreachable", exc_info=True)
        return "down"
    return "ok"


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """200 with the status of the database and the broker; 503 when the database is down.

    A broker outage degrades background work but the site still serves, so it is reported
    without failing the check.
    """
    database = _database_status()
    broker = _broker_status()
    status = 200 if database == "ok" else 503
    return JsonResponse(
        {"status": "ok" if status == 200 else "error", "database": database, "broker": broker},
        status=status,
    )
