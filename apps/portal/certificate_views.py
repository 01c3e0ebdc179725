"""Portal pages for certificates: mine, ask for one, print it, and the public verification page.

Deciding on requests (issue, refuse, revoke, bulk issue) happens in the admin and the API; the
portal is the volunteer's side. The verification page is public and shows no ID number.
"""

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from apps.core.scoping import get_object_for_user, get_user_scope
from apps.organizations.models import PartyOrganization
from apps.service_records import certificates as services
from apps.service_records.certificate_pdf import render_certificate_pdf
from apps.service_records.models import Certificate, CertificateStatus

from .resident_views import _apply


class CertificateRequestForm(forms.Form):
    issuer = forms.ModelChoiceField(
        label=gettext_lazy("Issuing organisation"),
        queryset=PartyOrganization.objects.none(),
        help_text=gettext_lazy("The organisation that recorded your service certifies it."),
    )
    period_start = forms.DateField(
        label=gettext_lazy("From"), widget=forms.DateInput({"type": "date"}, format="%Y-%m-%d")
    )
    period_end = forms.DateField(
        label=gettext_lazy("Until"), widget=forms.DateInput({"type": "date"}, format="%Y-%m-%d")
    )
    purpose = forms.CharField(
        label=gettext_lazy("Purpose"),
        required=False,
        max_length=128,
        help_text=gettext_lazy("Optional, e.g. for school, work or a party-member appraisal."),
    )

    def __init__(self, *args, volunteer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["issuer"].queryset = services.certificate_issuer_choices(volunteer=volunteer)


def verify_url(request, certificate: Certificate) -> str:
    return request.build_absolute_uri(
        reverse("portal:certificate-verify", args=[certificate.verification_token])
    )


@require_GET
def certificate_list(request):
    """My certificates and requests, with their status."""
    rows = list(services.my_certificates(user=request.user))
    scope = get_user_scope(request.user)
    awaiting = 0
    if scope.can_manage_any:
        awaiting = (
            Certificate.objects.manageable_by(request.user)
            .filter(status=CertificateStatus.REQUESTED)
            .count()
        )
    return render(
        request,
        "portal/certificates/list.html",
        {"rows": rows, "awaiting": awaiting, "can_manage": scope.can_manage_any},
    )


@require_http_methods(["GET", "POST"])
def certificate_request(request):
    """Ask an organisation that recorded my service for a certificate for a period."""
    today = timezone.localdate()
    form = CertificateRequestForm(
        request.POST or None,
        volunteer=request.user,
        initial={"period_start": datetime.date(today.year, 1, 1), "period_end": today},
    )
    created = []
    if request.method == "POST" and _apply(
        form,
        lambda data: created.append(
            services.certificate_request(volunteer=request.user, today=today, **data)
        ),
    ):
        messages.success(
            request,
            _("Your request has gone to %(issuer)s.") % {"issuer": created[0].issuer.name},
        )
        return redirect("portal:certificate-list")
    return render(
        request,
        "portal/certificates/request.html",
        {"form": form, "has_choices": form.fields["issuer"].queryset.exists()},
    )


@require_GET
def certificate_pdf(request, pk):
    """The printable PDF, for the volunteer and for those who see the issuer; only issued."""
    certificate = get_object_for_user(Certificate, request.user, pk=pk)
    if certificate.status != CertificateStatus.ISSUED:
        raise Http404
    pdf = render_certificate_pdf(certificate, verify_url=verify_url(request, certificate))
    services.certificate_log_download(actor=request.user, certificate=certificate, via="portal")
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{certificate.number}.pdf"'
    return response


@login_not_required
@require_GET
def certificate_verify(request, token):
    """What the QR code on a certificate opens: genuine or revoked, without the ID number."""
    certificate = services.certificate_for_token(token=token)
    if certificate is None:
        return render(request, "portal/certificates/verify_unknown.html", status=404)
    return render(
        request,
        "portal/certificates/verify.html",
        {
            "c": certificate,
            "masked_name": services.mask_name(certificate.volunteer_name),
            "genuine": certificate.status == CertificateStatus.ISSUED,
        },
    )
