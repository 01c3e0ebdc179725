"""Cache keys read ahead in one round trip, then answered without the cache server."""

from types import SimpleNamespace

import pytest
from django.core.cache import cache

from apps.core import prefetch


@pytest.fixture
def user():
    return SimpleNamespace(pk=1)


class CountingCache:
    """Counts the round trips the module makes (get_many calls)."""

    def __init__(self):
        self.calls = []

    def get_many(self, keys):
        self.calls.append(list(keys))
        return cache.get_many(keys)


@pytest.fixture
def counting(monkeypatch):
    counter = CountingCache()
    monkeypatch.setattr(prefetch, "cache", counter)
    return counter


def test_read_ahead_keys_are_answered_without_another_round_trip(user, counting):
    cache.set("prefetch-test:a", 1)
    cache.delete("prefetch-test:b")
    found = prefetch.prefetch(user, ["prefetch-test:a", "prefetch-test:b", "prefetch-test:a"])
    assert found == {"prefetch-test:a": 1}
    assert counting.calls == [["prefetch-test:a", "prefetch-test:b"]]
    assert prefetch.cached(user, "prefetch-test:a") == 1
    # a miss read ahead is a miss: not asked again
    assert prefetch.cached(user, "prefetch-test:b", "none") == "none"
    assert len(counting.calls) == 1


def test_a_key_not_read_ahead_goes_to_the_cache(user, counting):
    cache.set("prefetch-test:a", "a")
    cache.set("prefetch-test:c", "c")
    prefetch.prefetch(user, ["prefetch-test:a"])
    found = prefetch.cached_many(user, ["prefetch-test:a", "prefetch-test:c"])
    assert found == {"prefetch-test:a": "a", "prefetch-test:c": "c"}
    assert counting.calls[-1] == ["prefetch-test:c"]


def test_a_forgotten_key_is_read_again(user, counting):
    cache.set("prefetch-test:d", "old")
    prefetch.prefetch(user, ["prefetch-test:d"])
    cache.set("prefetch-test:d", "new")
    assert prefetch.cached(user, "prefetch-test:d") == "old"
    prefetch.forget(user, "prefetch-test:d")
    assert prefetch.cached(user, "prefetch-test:d") == "new"


def test_another_user_object_reads_nothing_ahead(user, counting):
    cache.set("prefetch-test:e", "e")
    prefetch.prefetch(user, ["prefetch-test:e"])
    other = SimpleNamespace(pk=2)
    assert prefetch.cached(other, "prefetch-test:e") == "e"
    assert len(counting.calls) == 2
