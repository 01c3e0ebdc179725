from django.conf import settings
from django.core.cache import cache
from django.db.models import F

from .models import DEFAULT_CHANNELS, Notification, NotificationPreference


def inbox_for(user):
    """The user's notifications, unread first, newest first."""
    return Notification.objects.filter(user=user).order_by(
        F("read_at").desc(nulls_first=True), "-created_at", "-pk"
    )


def unread_count(user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


#: How long a cached unread count lives; creating or reading notifications forgets it sooner.
UNREAD_CACHE_SECONDS = 6 * 3600


def unread_cache_key(user_id: int) -> str:
    return f"notifications:unread:{user_id}"


def cached_unread_count(user) -> int | None:
    """The cached unread count, or None when the cache has none (never a query)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return cache.get(unread_cache_key(user.pk))


def unread_count_cached(user) -> int:
    """The unread count, from the cache or counted once and cached."""
    count = cached_unread_count(user)
    if count is None:
        count = unread_count_refreshed(user)
    return count


def unread_count_refreshed(user) -> int:
    """Count now (one query) and put the count in the cache for the badge."""
    count = unread_count(user)
    cache.set(unread_cache_key(user.pk), count, UNREAD_CACHE_SECONDS)
    return count


def recipient_language(user_id: int) -> str:
    """The language a recipient reads notifications in.

    ``accounts.User`` has no language preference yet, so everyone gets
    ``settings.LANGUAGE_CODE``; with a ``User.language`` field (one of ``settings.LANGUAGES``)
    the reminders would read it with their recipients, in the same query.
    """
    return settings.LANGUAGE_CODE


def preferences_of(user) -> dict[tuple[str, str], bool]:
    """(kind, channel) → wanted, with defaults where the user has not chosen."""
    from .models import Channel, NotificationKind

    stored = {
        (p.kind, p.channel): p.enabled for p in NotificationPreference.objects.filter(user=user)
    }
    return {
        (kind, channel): stored.get((kind, channel), DEFAULT_CHANNELS[channel])
        for kind in NotificationKind.values
        for channel in Channel.values
    }
