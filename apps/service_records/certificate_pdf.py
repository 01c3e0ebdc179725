"""The printed certificate: an A4 PDF in Chinese, made with WeasyPrint.

Everything the page needs travels inside the HTML (the QR code and the seal as data URIs), so
rendering never reaches the network or the file system beyond the installed fonts.
"""

from __future__ import annotations

import base64
import mimetypes

import segno
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from .certificates import CERTIFICATE_LANGUAGE
from .models import Certificate, CertificateStatus, IssuerProfile

TEMPLATE = "service_records/certificate_pdf.html"


def qr_data_uri(url: str) -> str:
    return segno.make(url, error="m").svg_data_uri(scale=4, border=1)


def seal_data_uri(certificate: Certificate) -> str:
    """The issuer's seal image, or "" when it has none (the PDF then shows an empty slot)."""
    profile = IssuerProfile.objects.filter(organization_id=certificate.issuer_id).first()
    if profile is None or not profile.seal_image:
        return ""
    try:
        with profile.seal_image.open("rb") as image:
            data = image.read()
    except (OSError, ValueError):
        return ""
    mime = mimetypes.guess_type(profile.seal_image.name)[0] or "image/png"
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def certificate_html(certificate: Certificate, *, verify_url: str) -> str:
    with translation.override(CERTIFICATE_LANGUAGE):
        return render_to_string(
            TEMPLATE,
            {
                "c": certificate,
                "verify_url": verify_url,
                "qr_data_uri": qr_data_uri(verify_url),
                "seal_data_uri": seal_data_uri(certificate),
            },
        )


def render_certificate_pdf(certificate: Certificate, *, verify_url: str) -> bytes:
    """The certificate as PDF bytes. Only an issued certificate is printed."""
    if certificate.status != CertificateStatus.ISSUED or not certificate.number:
        raise ValidationError(_("Only an issued certificate can be printed."), code="not_issued")
    from weasyprint import HTML  # heavy import, only when a certificate is printed

    html = certificate_html(certificate, verify_url=verify_url)
    return HTML(string=html, base_url=None).write_pdf()
