from django.db.models import F

from .models import DEFAULT_CHANNELS, Notification, NotificationPreference


def inbox_for(user):
    """The user's notifications, unread first, newest first."""
    return Notification.objects.filter(user=user).order_by(
        F("read_at").desc(nulls_first=True), "-created_at", "-pk"
    )


def unread_count(user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


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
