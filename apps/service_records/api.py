"""REST API for service records: the scoped list, self-reporting, corrections, review, photos;
evaluations read-only. Every rule lives in the services; this module parses and answers.

Access: a record outside the user's reach is 404; inside it, changing it needs the right
role (the volunteer or whoever entered it corrects; a reviewer, never the volunteer, reviews),
else 403. Refusals of the rules are 400 with a message per field.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.fields import get_error_detail
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from apps.accounts.models import ServiceCategory
from apps.activities.models import Activity
from apps.care.models import CareRecipient
from apps.communities.models import Community
from apps.core.scoping import user_can_manage
from apps.teams.selectors import member_teams

from . import selectors, services
from .checks import flag_reason
from .evidence import evidence_add, may_add_evidence
from .models import Evaluation, Evidence, RecordSource, ServiceRecord

REVIEW_ACTIONS = {"approve", "reject", "reopen", "revoke"}
OWNER_ACTIONS = {"partial_update", "update", "evidence"}


def as_field_errors(error: DjangoValidationError) -> serializers.ValidationError:
    """A service's ValidationError as a 400: field messages, or ``non_field_errors``."""
    if hasattr(error, "error_dict"):
        return serializers.ValidationError(get_error_detail(error))
    return serializers.ValidationError({"non_field_errors": error.messages})


class RecordPermission(permissions.BasePermission):
    """Signed in to list and self-report; the object checks follow the scoped lookup (404)."""

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request, view, obj):
        if view.action in REVIEW_ACTIONS:
            return user_can_manage(request.user, obj)
        if view.action in OWNER_ACTIONS:
            return services.may_edit(request.user, obj)
        return request.method in permissions.SAFE_METHODS


class EvidenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Evidence
        fields = ["id", "image", "phash", "width", "height", "uploaded_at"]
        read_only_fields = fields


class FlagSerializer(serializers.Serializer):
    code = serializers.CharField()
    reason = serializers.SerializerMethodField()

    def get_reason(self, flag) -> str:
        return flag_reason(flag)


class ServiceRecordSerializer(serializers.ModelSerializer):
    volunteer_name = serializers.CharField(source="volunteer.get_full_name", read_only=True)
    category_name = serializers.CharField(source="category.name", read_only=True)
    status = serializers.CharField(read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    source = serializers.CharField(read_only=True)
    hours = serializers.FloatField(read_only=True)
    flags = FlagSerializer(many=True, read_only=True)
    evidence_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = ServiceRecord
        fields = [
            "id",
            "volunteer",
            "volunteer_name",
            "activity_name",
            "category",
            "category_name",
            "started_at",
            "ended_at",
            "service_date",
            "duration_minutes",
            "hours",
            "place",
            "content",
            "organization",
            "responsible_person",
            "team",
            "activity",
            "community",
            "care_recipient",
            "source",
            "status",
            "status_display",
            "within_working_hours",
            "is_late",
            "late_reason",
            "flags",
            "evidence_count",
            "reviewed_by",
            "reviewed_at",
            "review_note",
            "created_at",
        ]
        read_only_fields = fields


class ServiceRecordDetailSerializer(ServiceRecordSerializer):
    evidence = EvidenceSerializer(many=True, read_only=True)

    class Meta(ServiceRecordSerializer.Meta):
        fields = [*ServiceRecordSerializer.Meta.fields, "evidence"]
        read_only_fields = fields


@extend_schema_field(OpenApiTypes.INT)
class ScopedChoice(serializers.PrimaryKeyRelatedField):
    """A reference limited by ``choices(user)``: anything else is an invalid choice."""

    def __init__(self, choices, **kwargs):
        self.choices_for = choices
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.choices_for(self.context["request"].user)


class RecordFieldsSerializer(serializers.Serializer):
    activity_name = serializers.CharField(max_length=128, label=gettext_lazy("activity name"))
    category = serializers.PrimaryKeyRelatedField(
        queryset=ServiceCategory.objects.filter(is_active=True)
    )
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField()
    duration_minutes = serializers.IntegerField(
        required=False, allow_null=True, min_value=-100000, max_value=100000
    )
    place = serializers.CharField(max_length=255)
    content = serializers.CharField(max_length=5000)
    responsible_person = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default=""
    )
    community = ScopedChoice(
        lambda user: Community.objects.all(), required=False, allow_null=True, default=None
    )
    care_recipient = ScopedChoice(
        lambda user: CareRecipient.objects.visible_to(user),
        required=False,
        allow_null=True,
        default=None,
    )
    late_reason = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default=""
    )


class RecordCreateSerializer(RecordFieldsSerializer):
    team = ScopedChoice(member_teams, required=False, allow_null=True, default=None)
    activity = ScopedChoice(
        lambda user: Activity.objects.visible_to(user),
        required=False,
        allow_null=True,
        default=None,
    )


class RecordUpdateSerializer(RecordFieldsSerializer):
    """Every field optional: only those sent change."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False
            if hasattr(field, "default"):
                field.default = serializers.empty


class RecordReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, label=gettext_lazy("reason"))


class BulkApproveSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), allow_empty=False, max_length=500
    )


class ServiceRecordViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ServiceRecordSerializer
    permission_classes = [RecordPermission]
    http_method_names = ["get", "post", "patch", "head", "options"]
    filterset_fields = ["status", "source", "team", "volunteer", "is_late", "service_date"]
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def get_queryset(self):
        year = self.request.query_params.get("year")
        flagged = self.request.query_params.get("flagged")
        return selectors.service_record_list(
            user=self.request.user,
            mine=False,
            year=int(year) if year and year.isdigit() else None,
            flagged={"true": True, "1": True, "false": False, "0": False}.get(flagged or ""),
        )

    def get_serializer_class(self):
        if self.action == "retrieve":
            return ServiceRecordDetailSerializer
        return ServiceRecordSerializer

    def _reply(self, record, *, code=status.HTTP_200_OK):
        fresh = self.get_queryset().filter(pk=record.pk).first() or record
        data = ServiceRecordDetailSerializer(fresh, context={"request": self.request}).data
        return Response(data, status=code)

    def _payload(self, serializer_class, **kwargs):
        payload = serializer_class(
            data=self.request.data, context={"request": self.request}, **kwargs
        )
        payload.is_valid(raise_exception=True)
        return payload.validated_data

    def _call(self, service, **kwargs):
        try:
            return service(**kwargs)
        except DjangoValidationError as error:
            raise as_field_errors(error) from error
        except DjangoPermissionDenied as error:
            raise PermissionDenied(detail=str(error) or None) from error

    @extend_schema(request=RecordCreateSerializer, responses=ServiceRecordDetailSerializer)
    def create(self, request, *args, **kwargs):
        """Self-report: the signed-in volunteer logs a service of their own."""
        data = self._payload(RecordCreateSerializer)
        record = self._call(
            services.service_record_submit,
            actor=request.user,
            volunteer=request.user,
            source=RecordSource.SELF_REPORTED,
            **data,
        )
        return self._reply(record, code=status.HTTP_201_CREATED)

    @extend_schema(request=RecordUpdateSerializer, responses=ServiceRecordDetailSerializer)
    def partial_update(self, request, *args, **kwargs):
        record = self.get_object()
        data = self._payload(RecordUpdateSerializer)
        record = self._call(
            services.service_record_update, actor=request.user, record=record, **data
        )
        return self._reply(record)

    def update(self, request, *args, **kwargs):
        if not kwargs.get("partial"):
            return self.http_method_not_allowed(request, *args, **kwargs)
        return super().update(request, *args, **kwargs)

    @extend_schema(request=None, responses=ServiceRecordDetailSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        record = self.get_object()
        record = self._call(services.service_record_approve, actor=request.user, record=record)
        return self._reply(record)

    def _with_reason(self, service):
        record = self.get_object()
        data = self._payload(RecordReasonSerializer)
        record = self._call(service, actor=self.request.user, record=record, **data)
        return self._reply(record)

    @extend_schema(request=RecordReasonSerializer, responses=ServiceRecordDetailSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._with_reason(services.service_record_reject)

    @extend_schema(request=RecordReasonSerializer, responses=ServiceRecordDetailSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        return self._with_reason(services.service_record_reopen)

    @extend_schema(request=RecordReasonSerializer, responses=ServiceRecordDetailSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        return self._with_reason(services.service_record_revoke)

    @extend_schema(request=BulkApproveSerializer, responses=None)
    @action(detail=False, methods=["post"], url_path="bulk-approve", url_name="bulk-approve")
    def bulk_approve(self, request):
        """Approve many: each record the user may approve is approved, the others reported."""
        data = self._payload(BulkApproveSerializer)
        if not selectors.may_review_any(request.user):
            raise PermissionDenied(_("You may not review records."))
        ids = list(dict.fromkeys(data["ids"]))
        found = {r.pk: r for r in ServiceRecord.objects.visible_to(request.user).filter(pk__in=ids)}
        approved, refused = services.service_record_bulk_approve(
            actor=request.user, records=[found[pk] for pk in ids if pk in found]
        )
        rows = [{"id": record.pk, "message": message} for record, message in refused]
        rows += [{"id": pk, "message": _("No such record.")} for pk in ids if pk not in found]
        return Response({"approved": approved, "refused": rows})

    @extend_schema(request=None, responses=EvidenceSerializer(many=True))
    @action(
        detail=True,
        methods=["post"],
        parser_classes=[MultiPartParser, FormParser, JSONParser],
        url_path="evidence",
        url_name="evidence",
    )
    def evidence(self, request, pk=None):
        """Upload photos (multipart, field ``photos``, repeatable)."""
        record = self.get_object()
        if not may_add_evidence(request.user, record):
            raise PermissionDenied
        added = self._call(
            evidence_add, actor=request.user, record=record, photos=request.FILES.getlist("photos")
        )
        data = EvidenceSerializer(added, many=True, context={"request": request}).data
        return Response(data, status=status.HTTP_201_CREATED)


class EvaluationSerializer(serializers.ModelSerializer):
    rater_kind = serializers.CharField(read_only=True)
    activity_name = serializers.CharField(source="record.activity_name", read_only=True)
    volunteer = serializers.IntegerField(source="record.volunteer_id", read_only=True)

    class Meta:
        model = Evaluation
        fields = [
            "id",
            "record",
            "activity_name",
            "volunteer",
            "rater_kind",
            "stars",
            "comment",
            "created_at",
        ]
        read_only_fields = fields


class EvaluationViewSet(viewsets.ReadOnlyModelViewSet):
    """Evaluations of the records the user sees (read only; residents rate on the portal)."""

    serializer_class = EvaluationSerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_fields = ["record", "stars", "rater_kind"]

    def get_queryset(self):
        return selectors.evaluation_list(user=self.request.user)


ROUTES = [
    ("service-records", ServiceRecordViewSet, "service-record"),
    ("evaluations", EvaluationViewSet, "evaluation"),
]
