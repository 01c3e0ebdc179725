"""A real Celery worker consumes from Redis: the deployment's background work, end to end."""

import os
import threading

import pytest
from celery import signals
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from apps.core.tasks import ping
from volunteer_platform.celery import app

pytestmark = pytest.mark.worker


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _keep_logging_as_is(**kwargs):
    """A ``setup_logging`` receiver, so the embedded worker leaves pytest's log capture alone."""


@pytest.fixture
def redis_app(monkeypatch):
    if not settings.REDIS_URL:
        message = "needs Redis: set REDIS_URL=redis://… to start a real worker"
        if _in_ci():
            pytest.fail(f"{message} (CI is set, so the worker test may not be skipped)")
        pytest.skip(message)

    overrides = {
        "task_always_eager": False,
        "broker_url": settings.REDIS_URL,
        "result_backend": settings.REDIS_URL,
    }
    previous = {key: app.conf[key] for key in overrides}
    app.conf.update(overrides)
    # The worker's logging set-up writes these into the environment; put them back afterwards.
    monkeypatch.setenv("CELERY_LOG_LEVEL", os.environ.get("CELERY_LOG_LEVEL", ""))
    monkeypatch.setenv("CELERY_LOG_FILE", os.environ.get("CELERY_LOG_FILE", ""))
    signals.setup_logging.connect(_keep_logging_as_is)
    # A worker started here takes only this test's messages: tasks an earlier test queued for
    # later (a debounced sweep, say) and left behind when its worker stopped are dropped.
    app.control.purge()
    try:
        yield app
    finally:
        app.control.purge()
        signals.setup_logging.disconnect(_keep_logging_as_is)
        app.conf.update(previous)


def test_worker_runs_ping_through_redis(redis_app):
    threads_before = set(threading.enumerate())

    with start_worker(redis_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        result = ping.delay()
        assert result.get(timeout=10) == "pong"
        assert result.successful()

    leftover = [t for t in threading.enumerate() if t not in threads_before and t.is_alive()]
    assert not leftover, f"threads left running after the worker stopped: {leftover}"
