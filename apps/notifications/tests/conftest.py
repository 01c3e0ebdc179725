import pytest

from apps.notifications.models import Notification, NotificationKind


def make_notification(user, key="test:1", **extra):
    fields = {
        "user": user,
        "kind": NotificationKind.VISIT_OVERDUE,
        "key": key,
        "title": "测试提醒",
        "body": "正文",
        "url": "/",
    }
    fields.update(extra)
    return Notification.objects.create(**fields)


@pytest.fixture
def nworld(world):
    """The world plus a notification for the volunteer."""
    world.notification = make_notification(world.cast.volunteer)
    return world
