"""``/healthz``: what the load balancer and the monitoring ask, answered without signing in."""

import logging
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.db import OperationalError, connection

pytestmark = pytest.mark.django_db

URL = "/healthz"
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def embedded(settings):
    """The embedded default: no Redis, tasks in-process."""
    settings.REDIS_URL = ""
    settings.CELERY_BROKER_URL = "memory://"
    settings.CELERY_TASK_ALWAYS_EAGER = True


def test_anonymous_get_reports_database_and_in_process_broker(client, embedded):
    response = client.get(URL)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "database": "ok", "broker": "in-process"}
    assert "no-cache" in response["Cache-Control"]


def test_eager_tasks_count_as_in_process_even_with_redis(client, settings):
    settings.REDIS_URL = UNREACHABLE_REDIS
    settings.CELERY_BROKER_URL = UNREACHABLE_REDIS
    settings.CELERY_TASK_ALWAYS_EAGER = True

    response = client.get(URL)

    assert response.status_code == 200
    assert response.json()["broker"] == "in-process"


def test_reachable_redis_broker_is_ok(client, settings):
    redis_url = django_settings.REDIS_URL
    if not redis_url:
        pytest.skip("needs Redis: set REDIS_URL=redis://… to check a real broker")
    settings.REDIS_URL = redis_url
    settings.CELERY_BROKER_URL = redis_url
    settings.CELERY_TASK_ALWAYS_EAGER = False

    response = client.get(URL)

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


# Django logs every 5xx response at ERROR; that one record, and nothing else, is expected here.
@pytest.mark.allow_error_logs
def test_database_down_is_503(client, embedded, caplog):
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("down")):
        response = client.get(URL)

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "down", "broker": "in-process"}
    logged = [(r.name, r.levelno, r.getMessage()) for r in caplog.records]
    assert ("apps.core.views", logging.WARNING, "health check: database unreachable") in logged
    errors = [(name, message) for name, level, message in logged if level >= logging.ERROR]
    assert errors == [("django.request", "Service Unavailable: /healthz")]


def test_broker_down_still_serves_with_200(client, settings):
    settings.REDIS_URL = UNREACHABLE_REDIS
    settings.CELERY_BROKER_URL = UNREACHABLE_REDIS
    settings.CELERY_TASK_ALWAYS_EAGER = False

    response = client.get(URL)

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "down"}


def test_post_is_405(client, embedded):
    response = client.post(URL)

    assert response.status_code == 405
    assert response["Allow"] == "GET"
