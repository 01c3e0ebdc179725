"""The unread badge in the navigation: read from the cache only, so a page costs no query.

On a cache miss the badge asks for itself once (htmx, ``portal:inbox-badge``), which counts
and caches; creating or reading notifications forgets the cached count.
"""

from django import template
from django.urls import reverse

from apps.notifications.selectors import cached_unread_count

register = template.Library()


@register.inclusion_tag("portal/inbox/_badge.html", takes_context=True)
def unread_badge(context):
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return {"count": cached_unread_count(user), "badge_url": reverse("portal:inbox-badge")}
