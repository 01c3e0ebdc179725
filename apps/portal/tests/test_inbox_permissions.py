"""The inbox for every role: each person sees and reads only their own notifications."""

import pytest

from apps.core.tests.matrix import case, parametrize, run_case
from apps.notifications.tests.conftest import make_notification, nworld  # noqa: F401


def own(w):
    return {"pk": w.notification.pk}


CASES = [
    case("portal:inbox", default=200, anonymous=302),
    case("portal:inbox", method="POST", default=405, anonymous=302),
    # The volunteer's notification: the volunteer reads it (and is sent to its link);
    # for everyone else it does not exist.
    case(
        "portal:inbox-read",
        "POST",
        kwargs=own,
        default=404,
        anonymous=302,
        volunteer=302,
        team_leader=404,
        community_staff=404,
    ),
    case("portal:inbox-read", "GET", kwargs=own, default=405, anonymous=302),
    case("portal:inbox-read-all", "POST", default=302, anonymous=302),
    case("portal:inbox-read-all", "GET", default=405, anonymous=302),
    # the navigation's unread badge: each person's own count
    case("portal:inbox-badge", default=200, anonymous=302),
    case("portal:inbox-badge", "POST", default=405, anonymous=302),
    case("portal:notification-preferences", default=200, anonymous=302),
    case("portal:notification-preferences", "POST", data=lambda w: {}, default=302, anonymous=302),
]


@pytest.mark.parametrize(("c", "role"), parametrize(CASES))
def test_inbox_matrix(c, role, nworld, client, api_as):  # noqa: F811
    run_case(c, role, nworld, client, api_as)
