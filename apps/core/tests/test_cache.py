"""The Redis cache backend keeps one client per connection pool, and is still Django's cache:
every operation the platform uses behaves as with Django's own backend."""

import os
import threading

import pytest
from django.conf import settings
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from redis.exceptions import RedisError

from apps.core.cache import RedisCache


@pytest.fixture
def backend():
    if not settings.REDIS_URL:
        message = "needs Redis: set REDIS_URL=redis://… to use a real cache server"
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(f"{message} (CI is set, so this test may not be skipped)")
        pytest.skip(message)
    cache = RedisCache(settings.REDIS_URL, {"KEY_PREFIX": "test-cache-backend"})
    yield cache
    cache.clear()
    cache.close()


def test_every_call_uses_the_same_client(backend):
    first = backend._cache.get_client("a")
    assert backend._cache.get_client("b") is first
    assert backend._cache.get_client("c", write=True) is first  # one server: one pool


def test_the_operations_behave_as_djangos(backend):
    plain = DjangoRedisCache(settings.REDIS_URL, {"KEY_PREFIX": "test-cache-backend"})
    try:
        assert backend.add("k", {"v": 1}, 30)
        assert not backend.add("k", {"v": 2}, 30)
        assert plain.get("k") == {"v": 1}  # the same keys and values as Django's own
        backend.set_many({"a": 1, "b": [2]}, 30)
        assert backend.get_many(["a", "b", "missing"]) == {"a": 1, "b": [2]}
        assert backend.incr("a") == 2
        assert backend.delete("a") and backend.get("a") is None
        assert backend.get("missing", "default") == "default"
    finally:
        plain.close()


def test_threads_share_the_client_safely(backend):
    errors = []

    def work(n):
        try:
            for i in range(50):
                backend.set(f"t{n}:{i}", i, 30)
                assert backend.get(f"t{n}:{i}") == i
        except (AssertionError, RedisError) as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert backend.get_many([f"t{n}:49" for n in range(4)]) == {f"t{n}:49": 49 for n in range(4)}
