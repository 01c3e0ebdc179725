"""The inbox: a person's notifications, marking them read, and which ones they want."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.scoping import get_object_for_user
from apps.notifications import selectors, services
from apps.notifications.models import Channel, Notification, NotificationKind

PAGE_SIZE = 30


@require_GET
def inbox(request):
    page = Paginator(selectors.inbox_for(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "portal/inbox/list.html",
        {"page": page, "unread": selectors.unread_count_refreshed(request.user)},
    )


@require_GET
def inbox_badge(request):
    """The navigation's unread badge, when the cache did not have the count (htmx)."""
    return render(
        request,
        "portal/inbox/_badge.html",
        {"count": selectors.unread_count_cached(request.user), "badge_url": request.path},
    )


@require_POST
def inbox_read(request, pk):
    # manageable_by is the user's own notifications only: anyone else's is a 404.
    notification = get_object_for_user(
        Notification.objects.manageable_by(request.user), request.user, pk=pk
    )
    services.notification_mark_read(user=request.user, notification=notification)
    target = notification.url
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("portal:inbox")


@require_POST
def inbox_read_all(request):
    count = services.notification_mark_all_read(user=request.user)
    messages.success(request, _("%(count)d notifications marked as read.") % {"count": count})
    return redirect("portal:inbox")


def _field_name(kind, channel):
    return f"{kind}__{channel}"


class PreferencesForm(forms.Form):
    def __init__(self, *args, initial_wanted=None, **kwargs):
        super().__init__(*args, **kwargs)
        for kind, kind_label in NotificationKind.choices:
            for channel, channel_label in Channel.choices:
                self.fields[_field_name(kind, channel)] = forms.BooleanField(
                    label=f"{kind_label} · {channel_label}",
                    required=False,
                    initial=(initial_wanted or {}).get((kind, channel), False),
                )

    def wanted(self):
        return {
            (kind, channel): self.cleaned_data[_field_name(kind, channel)]
            for kind in NotificationKind.values
            for channel in Channel.values
        }


@require_http_methods(["GET", "POST"])
def notification_preferences(request):
    current = selectors.preferences_of(request.user)
    data = request.POST if request.method == "POST" else None
    form = PreferencesForm(data, initial_wanted=current)
    if request.method == "POST" and form.is_valid():
        try:
            services.notification_preferences_set(user=request.user, wanted=form.wanted())
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            messages.success(request, _("Your notification choices are saved."))
            return redirect("portal:notification-preferences")
    return render(request, "portal/inbox/preferences.html", {"form": form})
