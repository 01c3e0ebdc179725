from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import F

from apps.core.prefetch import cached, forget

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
    return cached(user, unread_cache_key(user.pk))


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
    forget(user, unread_cache_key(user.pk))
    return count


def recipient_languages() -> dict[int, str]:
    """Users who chose a language (``User.language``) → that language. Everyone else reads
    ``settings.LANGUAGE_CODE``. Few people change it, so one query per reminder run is cheap."""
    return dict(
        get_user_model()
        .objects.exclude(language="")
        .filter(is_active=True)
        .values_list("pk", "language")
    )


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
