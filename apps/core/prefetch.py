"""Reading the cache keys one request needs in a single round trip.

A page that knows which cached values its parts will ask for (the user's scope for the
navigation, the unread badge, its own rendered body) reads them all at once with
:func:`prefetch`; the parts then ask :func:`cached` instead of the cache, and only a key that
was not read ahead goes to the cache server. What is read ahead lives on the user object, so
it lasts exactly one request.
"""

from django.core.cache import cache

_ATTRIBUTE = "_prefetched_cache"
_MISSING = object()


def prefetch(user, keys) -> dict:
    """Read ``keys`` in one round trip and keep them (misses too) for this request's user."""
    keys = list(dict.fromkeys(keys))
    found = cache.get_many(keys)
    kept = getattr(user, _ATTRIBUTE, None)
    if kept is None:
        kept = {}
        setattr(user, _ATTRIBUTE, kept)
    kept.update({key: found.get(key, _MISSING) for key in keys})
    return found


def cached_many(user, keys) -> dict:
    """Like ``cache.get_many``, answered from what was read ahead where it can be."""
    kept = getattr(user, _ATTRIBUTE, None) or {}
    result, missing = {}, []
    for key in keys:
        if key not in kept:
            missing.append(key)
        elif kept[key] is not _MISSING:
            result[key] = kept[key]
    if missing:
        result.update(cache.get_many(missing))
    return result


def cached(user, key, default=None):
    """Like ``cache.get``, answered from what was read ahead where it can be."""
    return cached_many(user, [key]).get(key, default)


def forget(user, key) -> None:
    """Drop a read-ahead value that this request has just changed in the cache."""
    kept = getattr(user, _ATTRIBUTE, None)
    if kept is not None:
        kept.pop(key, None)
