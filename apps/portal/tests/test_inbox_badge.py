"""The unread badge in the navigation: from the cache, no query on any page; forgotten when
notifications are created (in bulk) or read; filled by its own small request on a miss."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.notifications import selectors, services
from apps.notifications.models import NotificationKind
from apps.notifications.tests.conftest import make_notification


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def _page(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def _create(user, key):
    return services.notifications_create(
        kind=NotificationKind.VISIT_OVERDUE, items=[(user.pk, key, "提醒", "", "")]
    )


def test_cold_badge_asks_for_itself_and_costs_the_page_nothing(client, volunteer):
    client.force_login(volunteer)
    make_notification(volunteer)
    url = reverse("portal:profile")
    client.get(url)  # the session
    cache.clear()
    cold, cold_queries = _page(client, url)
    assert f'hx-get="{reverse("portal:inbox-badge")}"' in cold
    cache.set(selectors.unread_cache_key(volunteer.pk), 1)
    warm, warm_queries = _page(client, url)
    assert cold_queries == warm_queries  # the badge never queries on a page
    assert "hx-get" not in warm.split("</nav>")[0].split('class="unread-badge')[1]
    assert ">1<" in warm


def test_badge_request_counts_and_caches(client, volunteer):
    make_notification(volunteer, key="a")
    make_notification(volunteer, key="b")
    client.force_login(volunteer)
    cache.clear()
    body, _queries = _page(client, reverse("portal:inbox-badge"))
    assert ">2<" in body
    assert cache.get(selectors.unread_cache_key(volunteer.pk)) == 2
    _body, warm_queries = _page(client, reverse("portal:inbox-badge"))
    _body, again = _page(client, reverse("portal:inbox-badge"))
    assert warm_queries == again  # session and user only: the count comes from the cache


def test_bulk_create_forgets_the_count(volunteer, outsider):
    for user in (volunteer, outsider):
        assert selectors.unread_count_cached(user) == 0
    services.notifications_create(
        kind=NotificationKind.VISIT_OVERDUE,
        items=[(volunteer.pk, "k", "t", "", ""), (outsider.pk, "k", "t", "", "")],
    )
    assert selectors.cached_unread_count(volunteer) is None
    assert selectors.unread_count_cached(volunteer) == 1
    assert selectors.unread_count_cached(outsider) == 1


def test_existing_key_does_not_forget_the_count(volunteer):
    _create(volunteer, "k")
    assert selectors.unread_count_cached(volunteer) == 1
    assert _create(volunteer, "k") == 0
    assert selectors.cached_unread_count(volunteer) == 1


def test_reading_forgets_the_count(client, volunteer):
    note = make_notification(volunteer, key="a")
    make_notification(volunteer, key="b")
    assert selectors.unread_count_cached(volunteer) == 2
    services.notification_mark_read(user=volunteer, notification=note)
    assert selectors.unread_count_cached(volunteer) == 1
    services.notification_mark_all_read(user=volunteer)
    assert selectors.unread_count_cached(volunteer) == 0


def test_inbox_page_refreshes_the_badge(client, volunteer):
    make_notification(volunteer)
    cache.set(selectors.unread_cache_key(volunteer.pk), 7)  # stale
    client.force_login(volunteer)
    client.get(reverse("portal:inbox"))
    assert selectors.cached_unread_count(volunteer) == 1


def test_no_unread_no_badge_number(client, volunteer):
    client.force_login(volunteer)
    cache.set(selectors.unread_cache_key(volunteer.pk), 0)
    body, _queries = _page(client, reverse("portal:profile"))
    nav = body.split("</nav>")[0]
    assert "badge rounded-pill" not in nav and "hx-get" not in nav


def test_anonymous_pages_have_no_badge(client, db):
    response = client.get(reverse("account_login"))
    assert "unread-badge" not in response.content.decode()
