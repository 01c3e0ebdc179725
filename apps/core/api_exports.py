"""REST API for export jobs: a person's own jobs, asking for one, and its download.

``POST /exports/`` with ``exporter``, ``format`` and ``params`` checks the request through the
exporter (400 with a message, 404 for an organisation outside the asker's scope, 403 for
someone without an organisation role) and starts the job; ``GET /exports/{id}/`` shows its
progress; ``GET /exports/{id}/download/`` returns the file while it has not expired (410 after).
Someone else's job is a 404.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import FileResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from .api import as_drf_validation_error
from .export_jobs import (
    export_job_create,
    export_job_is_expired,
    export_job_list,
    export_job_log_download,
)
from .models import ExportJob, ExportStatus
from .scoping import get_user_scope


class ExportPermission(permissions.BasePermission):
    """Exports are for people with an organisation role (reading is enough)."""

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and get_user_scope(user).can_view_any)


class ExportJobSerializer(serializers.ModelSerializer):
    expired = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ExportJob
        fields = [
            "id",
            "exporter",
            "format",
            "params",
            "title",
            "status",
            "progress",
            "filename",
            "size",
            "error",
            "created_at",
            "finished_at",
            "expires_at",
            "expired",
            "download_url",
        ]
        read_only_fields = fields

    def get_expired(self, job) -> bool:
        return export_job_is_expired(job)

    def get_download_url(self, job) -> str | None:
        if job.status != ExportStatus.DONE or export_job_is_expired(job):
            return None
        return reverse("api:export-download", args=[job.pk])


class ExportJobCreateSerializer(serializers.Serializer):
    exporter = serializers.CharField(max_length=64)
    format = serializers.CharField(max_length=8)
    params = serializers.DictField(required=False, default=dict)


class ExportJobViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [ExportPermission]
    serializer_class = ExportJobSerializer

    def get_queryset(self):
        return export_job_list(user=self.request.user)

    @extend_schema(request=ExportJobCreateSerializer, responses={201: ExportJobSerializer})
    def create(self, request, *args, **kwargs):
        data = ExportJobCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            job = export_job_create(user=request.user, **data.validated_data)
        except DjangoValidationError as error:
            raise as_drf_validation_error(error) from error
        return Response(ExportJobSerializer(job).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            409: OpenApiTypes.OBJECT,
            410: OpenApiTypes.OBJECT,
        }
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        job = self.get_object()
        if job.status != ExportStatus.DONE:
            return Response(
                {"detail": _("The export is not ready yet.")}, status=status.HTTP_409_CONFLICT
            )
        if export_job_is_expired(job):
            return Response(
                {"detail": _("This download has expired. Please export again.")},
                status=status.HTTP_410_GONE,
            )
        export_job_log_download(user=request.user, job=job, via="api")
        return FileResponse(
            job.file.open("rb"),
            as_attachment=True,
            filename=job.filename,
            content_type=job.content_type,
        )


ROUTES: list[tuple[str, type, str]] = [
    ("exports", ExportJobViewSet, "export"),
]
