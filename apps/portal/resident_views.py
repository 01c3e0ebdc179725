"""Pages for residents without an account: submit a request, track it, rate it; the wishes wall.

Every view here is ``login_not_required``. None of them shows personal data: the tracking page
shows statuses and times, the wall titles and communities.
"""

import io

import segno
from django import forms
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from apps.care import selectors, services
from apps.care.models import RequestChannel, RequestKind, RequestStatus, ServiceRequest
from apps.communities.models import Community

WALL_SIZE = 60


class ResidentRequestForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("What kind of request"),
        choices=RequestKind.choices,
        initial=RequestKind.NEED,
        widget=forms.RadioSelect,
    )
    title = forms.CharField(label=gettext_lazy("What do you need?"), max_length=128)
    description = forms.CharField(
        label=gettext_lazy("Details"),
        required=False,
        max_length=2000,
        widget=forms.Textarea({"rows": 3}),
    )
    requester_name = forms.CharField(label=gettext_lazy("Your name"), required=False, max_length=64)
    requester_phone = forms.CharField(
        label=gettext_lazy("Your mobile number"),
        required=False,
        max_length=20,
        help_text=gettext_lazy("Only the community's staff see it; they call you back."),
        widget=forms.TextInput({"inputmode": "tel", "autocomplete": "tel"}),
    )
    requester_address = forms.CharField(
        label=gettext_lazy("Your address"), required=False, max_length=255
    )


class TrackForm(forms.Form):
    number = forms.CharField(label=gettext_lazy("Tracking number"), max_length=20)
    phone4 = forms.CharField(
        label=gettext_lazy("Last 4 digits of your mobile number"),
        min_length=4,
        max_length=4,
        widget=forms.TextInput({"inputmode": "numeric"}),
    )


class RateForm(forms.Form):
    stars = forms.TypedChoiceField(
        label=gettext_lazy("How was the service?"),
        choices=[(n, "★" * n) for n in range(5, 0, -1)],
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=gettext_lazy("Comment"),
        required=False,
        max_length=500,
        widget=forms.Textarea({"rows": 3}),
    )


def _apply(form: forms.Form, call) -> bool:
    """Run a service for a valid form; its refusal becomes the form's errors."""
    if not form.is_valid():
        return False
    try:
        call(form.cleaned_data)
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, error)
        return False
    return True


def _client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


@login_not_required
@require_http_methods(["GET", "POST"])
def resident_submit(request, community_pk):
    """The page a community's QR code points at (``?src=qr``)."""
    community = get_object_or_404(Community, pk=community_pk, is_active=True)
    channel = RequestChannel.QR if request.GET.get("src") == "qr" else RequestChannel.WEB
    form = ResidentRequestForm(request.POST or None)
    created = []
    if request.method == "POST" and _apply(
        form,
        lambda data: created.append(
            services.service_request_submit_public(
                community=community, channel=channel, ip=_client_ip(request), **data
            )
        ),
    ):
        return redirect("portal:resident-submitted", token=created[0].rating_token)
    return render(
        request,
        "portal/residents/submit.html",
        {"community": community, "form": form, "is_qr": channel == RequestChannel.QR},
    )


@login_not_required
@require_GET
def resident_submitted(request, token):
    """The receipt: tracking number and the rating link, to keep for later."""
    service_request = get_object_or_404(
        ServiceRequest.objects.select_related("community"), rating_token=token
    )
    rate_url = request.build_absolute_uri(reverse("portal:resident-rate", args=[token]))
    return render(
        request,
        "portal/residents/submitted.html",
        {
            "service_request": service_request,
            "rate_url": rate_url,
            "rate_qr": segno.make(rate_url, error="m").svg_inline(scale=4),
        },
    )


@login_not_required
@require_GET
def resident_track(request):
    form = TrackForm(request.GET or None)
    found = None
    events = []
    searched = form.is_bound and form.is_valid()
    if searched:
        found = selectors.service_request_track(
            tracking_number=form.cleaned_data["number"], phone_last4=form.cleaned_data["phone4"]
        )
        if found is not None:
            events = list(found.events.only("status", "at").order_by("at", "pk"))
    return render(
        request,
        "portal/residents/track.html",
        {"form": form, "found": found, "events": events, "searched": searched},
    )


@login_not_required
@require_http_methods(["GET", "POST"])
def resident_rate(request, token):
    service_request = get_object_or_404(
        ServiceRequest.objects.select_related("community"), rating_token=token
    )
    form = RateForm(request.POST or None)
    if request.method == "POST" and _apply(
        form,
        lambda data: services.service_request_rate(
            token=token, stars=data["stars"], comment=data["comment"]
        ),
    ):
        return redirect("portal:resident-rate", token=token)
    return render(
        request,
        "portal/residents/rate.html",
        {
            "service_request": service_request,
            "form": form,
            "can_rate": service_request.status == RequestStatus.DONE
            and service_request.rating_stars is None,
        },
    )


@login_not_required
@require_GET
def wishes_wall(request):
    wishes = list(selectors.service_request_wall()[:WALL_SIZE])
    return render(request, "portal/residents/wall.html", {"wishes": wishes})


@login_not_required
@require_GET
def community_qr(request, community_pk):
    """An SVG QR code of the community's request page, for staff to print and post up.

    Public on purpose: it only encodes the public submit page's address.
    """
    community = get_object_or_404(Community, pk=community_pk, is_active=True)
    url = request.build_absolute_uri(
        reverse("portal:resident-submit", args=[community.pk]) + "?src=qr"
    )
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=8, border=2)
    return HttpResponse(buffer.getvalue(), content_type="image/svg+xml")
