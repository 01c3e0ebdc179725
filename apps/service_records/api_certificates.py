"""REST API for certificates: the scoped list, a request for yourself, and the issuer's decisions.

``POST /certificates/`` asks for a certificate for the signed-in user; ``issue``, ``reject`` and
``revoke`` are the issuing organisation's (403 for those who only see it); ``pdf`` returns the
printed certificate of an issued one.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from apps.core.api import ScopedModelViewSet, ScopedObjectPermission, as_drf_validation_error
from apps.organizations.models import PartyOrganization

from . import certificates as services
from .certificate_pdf import render_certificate_pdf
from .models import Certificate, CertificateStatus


class CertificatePermission(ScopedObjectPermission):
    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        if view.action == "create":
            return True  # anyone asks for their own certificate; the service checks the records
        return super().has_permission(request, view)


class CertificateSerializer(serializers.ModelSerializer):
    volunteer_display = serializers.CharField(source="volunteer.get_full_name", read_only=True)
    issuer_display = serializers.CharField(source="issuer.name", read_only=True)
    verify_url = serializers.SerializerMethodField()
    pdf_url = serializers.SerializerMethodField()

    class Meta:
        model = Certificate
        fields = [
            "id",
            "number",
            "status",
            "volunteer",
            "volunteer_display",
            "issuer",
            "issuer_display",
            "period_start",
            "period_end",
            "purpose",
            "requested_at",
            "volunteer_name",
            "id_type",
            "id_number_masked",
            "volunteer_number",
            "hours",
            "record_count",
            "content",
            "issuer_name",
            "person_in_charge",
            "handler_name",
            "contact",
            "issued_on",
            "decided_at",
            "rejection_reason",
            "revoked_at",
            "revoke_reason",
            "verify_url",
            "pdf_url",
        ]
        read_only_fields = fields

    def _absolute(self, path: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def get_verify_url(self, obj) -> str | None:
        if not obj.number:
            return None
        return self._absolute(reverse("portal:certificate-verify", args=[obj.verification_token]))

    def get_pdf_url(self, obj) -> str | None:
        if obj.status != CertificateStatus.ISSUED:
            return None
        return self._absolute(reverse("api:certificate-pdf", args=[obj.pk]))


class CertificateRequestSerializer(serializers.Serializer):
    issuer = serializers.PrimaryKeyRelatedField(
        queryset=PartyOrganization.objects.filter(is_active=True), label=_("issuing organisation")
    )
    period_start = serializers.DateField(label=_("from"))
    period_end = serializers.DateField(label=_("until"))
    purpose = serializers.CharField(max_length=128, required=False, allow_blank=True, default="")


class CertificateReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, label=_("reason"))


class CertificateViewSet(ScopedModelViewSet):
    queryset = Certificate.objects.all()
    serializer_class = CertificateSerializer
    permission_classes = [CertificatePermission]
    filterset_fields = ["status", "issuer", "volunteer"]
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self):
        return services.certificate_list(user=self.request.user)

    def get_serializer_class(self):
        if self.action == "create":
            return CertificateRequestSerializer
        return CertificateSerializer

    def _call(self, service, **kwargs):
        try:
            return service(**kwargs)
        except DjangoPermissionDenied as error:
            raise PermissionDenied(detail=str(error) or None) from error
        except DjangoValidationError as error:
            if getattr(error, "code", None) == "own_certificate":
                raise PermissionDenied(detail=" ".join(error.messages)) from error
            raise as_drf_validation_error(error) from error

    def _payload(self, serializer_class):
        payload = serializer_class(data=self.request.data, context={"request": self.request})
        payload.is_valid(raise_exception=True)
        return payload.validated_data

    def _reply(self, instance, *, code=status.HTTP_200_OK):
        instance = self.get_queryset().get(pk=instance.pk)
        return Response(
            CertificateSerializer(instance, context={"request": self.request}).data, status=code
        )

    @extend_schema(request=CertificateRequestSerializer, responses=CertificateSerializer)
    def create(self, request, *args, **kwargs):
        data = self._payload(CertificateRequestSerializer)
        certificate = self._call(services.certificate_request, volunteer=request.user, **data)
        return self._reply(certificate, code=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=CertificateSerializer)
    @action(detail=True, methods=["post"])
    def issue(self, request, pk=None):
        certificate = self.get_object()
        self._call(services.certificate_issue, actor=request.user, certificate=certificate)
        return self._reply(certificate)

    @extend_schema(request=CertificateReasonSerializer, responses=CertificateSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        certificate = self.get_object()
        data = self._payload(CertificateReasonSerializer)
        self._call(
            services.certificate_reject,
            actor=request.user,
            certificate=certificate,
            reason=data["reason"],
        )
        return self._reply(certificate)

    @extend_schema(request=CertificateReasonSerializer, responses=CertificateSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        certificate = self.get_object()
        data = self._payload(CertificateReasonSerializer)
        self._call(
            services.certificate_revoke,
            actor=request.user,
            certificate=certificate,
            reason=data["reason"],
        )
        return self._reply(certificate)

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        certificate = self.get_object()
        verify_url = request.build_absolute_uri(
            reverse("portal:certificate-verify", args=[certificate.verification_token])
        )
        pdf = self._call(render_certificate_pdf, certificate=certificate, verify_url=verify_url)
        services.certificate_log_download(actor=request.user, certificate=certificate, via="api")
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{certificate.number}.pdf"'
        return response


ROUTES: list[tuple[str, type, str]] = [
    ("certificates", CertificateViewSet, "certificate"),
]
