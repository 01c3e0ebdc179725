"""API for residents' requests: the scoped list, staff intake and every step of the workflow."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from apps.accounts.models import ServiceCategory, User
from apps.communities.models import Community
from apps.core.api import ScopedModelViewSet, ScopedObjectPermission, as_drf_validation_error
from apps.core.services import audit_log
from apps.teams.models import Team

from .. import selectors, services
from ..models import CareRecipient, RequestKind, ServiceRequest

#: Steps taken by the team or the volunteer, not by the community's staff: the service decides.
WORKER_ACTIONS = {"team_accept", "team_decline", "claim", "complete"}
#: Refusals that mean "this is someone else's step" rather than bad input.
NOT_YOURS = {"not_assigned", "not_team_leader"}


class ServiceRequestPermission(ScopedObjectPermission):
    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        if view.action == "create":
            return Community.objects.manageable_by(request.user).exists()
        return super().has_permission(request, view)

    def has_object_permission(self, request, view, obj):
        if view.action in WORKER_ACTIONS:
            return True
        return super().has_object_permission(request, view, obj)


class ServiceRequestSerializer(serializers.ModelSerializer):
    community_name = serializers.CharField(source="community.name", read_only=True)
    is_overdue = serializers.BooleanField(read_only=True)
    requester_name = serializers.CharField(read_only=True)
    requester_phone = serializers.CharField(read_only=True)
    requester_address = serializers.CharField(read_only=True)
    kind = serializers.CharField(read_only=True)

    class Meta:
        model = ServiceRequest
        fields = [
            "id",
            "tracking_number",
            "channel",
            "kind",
            "community",
            "community_name",
            "care_recipient",
            "service_category",
            "title",
            "description",
            "requester_name",
            "requester_phone",
            "requester_address",
            "called_at",
            "status",
            "decline_reason",
            "dispatched_team",
            "assigned_volunteer",
            "deadline",
            "is_overdue",
            "completed_at",
            "completion_note",
            "rating_stars",
            "rating_comment",
            "rated_at",
            "created_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self.context.get("whole"):
            data.update(selectors.requester_masked(instance))
        return data


class ManageableChoice(serializers.PrimaryKeyRelatedField):
    """A reference to an object the user manages: anything else is an invalid choice."""

    def get_queryset(self):
        return self.queryset.manageable_by(self.context["request"].user)


class ServiceRequestCreateSerializer(serializers.Serializer):
    community = ManageableChoice(queryset=Community.objects.all())
    channel = serializers.ChoiceField(choices=[c.value for c in services.STAFF_CHANNELS])
    # A plain string (validated below): its enum would collide with the other "kind" enums in
    # the schema until settings.SPECTACULAR_SETTINGS names it (ENUM_NAME_OVERRIDES).
    kind = serializers.CharField(default=RequestKind.NEED, help_text="need | micro_wish")
    title = serializers.CharField(max_length=128)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    requester_name = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default=""
    )
    requester_phone = serializers.CharField(
        max_length=20, required=False, allow_blank=True, default=""
    )
    requester_address = serializers.CharField(
        max_length=255, required=False, allow_blank=True, default=""
    )
    called_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    care_recipient = ManageableChoice(
        queryset=CareRecipient.objects.all(),
        required=False,
        allow_null=True,
        default=None,
    )
    service_category = serializers.PrimaryKeyRelatedField(
        queryset=ServiceCategory.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        default=None,
    )

    def validate_kind(self, value):
        if value not in RequestKind.values:
            raise serializers.ValidationError(_("Choose whether this is a need or a micro-wish."))
        return value


class AcceptSerializer(serializers.Serializer):
    service_category = serializers.PrimaryKeyRelatedField(
        queryset=ServiceCategory.objects.filter(is_active=True), required=False, allow_null=True
    )


class RequestReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255, label=_("reason"))


class DispatchSerializer(serializers.Serializer):
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all())


class TeamAcceptSerializer(serializers.Serializer):
    volunteer = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True
    )


class CompleteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000)
    photos = serializers.ListField(child=serializers.ImageField(), required=False, max_length=10)


class ServiceRequestViewSet(ScopedModelViewSet):
    queryset = ServiceRequest.objects.all()
    serializer_class = ServiceRequestSerializer
    permission_classes = [ServiceRequestPermission]
    filterset_fields = ["status", "community", "kind", "channel"]
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self):
        return selectors.service_request_list(user=self.request.user)

    def get_serializer_class(self):
        if self.action == "create":
            return ServiceRequestCreateSerializer
        return ServiceRequestSerializer

    def _reply(self, instance, *, code=status.HTTP_200_OK):
        instance = self.get_queryset().filter(pk=instance.pk).first() or instance
        whole = selectors.requester_whole_visible(user=self.request.user, request=instance)
        if whole:
            audit_log(
                actor=self.request.user,
                action="care.sensitive_view",
                target=instance,
                details={"fields": list(selectors.REQUESTER_FIELDS), "via": "api"},
            )
        data = ServiceRequestSerializer(
            instance, context={"request": self.request, "whole": whole}
        ).data
        return Response(data, status=code)

    def _call(self, service, **kwargs):
        try:
            return service(**kwargs)
        except DjangoValidationError as error:
            codes = {e.code for e in getattr(error, "error_list", [])}
            if codes & NOT_YOURS:
                # In scope, but the step belongs to someone else: 403, with the reason.
                raise PermissionDenied(detail=" ".join(error.messages)) from error
            raise as_drf_validation_error(error) from error

    def _payload(self, serializer_class):
        payload = serializer_class(data=self.request.data, context={"request": self.request})
        payload.is_valid(raise_exception=True)
        return payload.validated_data

    def retrieve(self, request, *args, **kwargs):
        return self._reply(self.get_object())

    @extend_schema(request=ServiceRequestCreateSerializer, responses=ServiceRequestSerializer)
    def create(self, request, *args, **kwargs):
        data = self._payload(ServiceRequestCreateSerializer)
        instance = self._call(services.service_request_enter, actor=request.user, **data)
        return self._reply(instance, code=status.HTTP_201_CREATED)

    @extend_schema(request=AcceptSerializer, responses=ServiceRequestSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        obj = self.get_object()
        data = self._payload(AcceptSerializer)
        self._call(
            services.service_request_accept,
            actor=request.user,
            request=obj,
            service_category=data.get("service_category"),
        )
        return self._reply(obj)

    @extend_schema(request=RequestReasonSerializer, responses=ServiceRequestSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        obj = self.get_object()
        data = self._payload(RequestReasonSerializer)
        self._call(
            services.service_request_decline, actor=request.user, request=obj, reason=data["reason"]
        )
        return self._reply(obj)

    @extend_schema(request=DispatchSerializer, responses=ServiceRequestSerializer)
    @action(detail=True, methods=["post"], url_path="dispatch", url_name="dispatch")
    def dispatch_to_team(self, request, pk=None):
        obj = self.get_object()
        data = self._payload(DispatchSerializer)
        self._call(
            services.service_request_dispatch, actor=request.user, request=obj, team=data["team"]
        )
        return self._reply(obj)

    @extend_schema(request=None, responses=ServiceRequestSerializer)
    @action(detail=True, methods=["post"], url_path="open", url_name="open")
    def open_for_claim(self, request, pk=None):
        obj = self.get_object()
        self._call(services.service_request_open_for_claim, actor=request.user, request=obj)
        return self._reply(obj)

    @extend_schema(request=TeamAcceptSerializer, responses=ServiceRequestSerializer)
    @action(detail=True, methods=["post"], url_path="team-accept")
    def team_accept(self, request, pk=None):
        obj = self.get_object()
        data = self._payload(TeamAcceptSerializer)
        self._call(
            services.service_request_team_accept,
            actor=request.user,
            request=obj,
            volunteer=data.get("volunteer"),
        )
        return self._reply(obj)

    @extend_schema(request=RequestReasonSerializer, responses=ServiceRequestSerializer)
    @action(detail=True, methods=["post"], url_path="team-decline")
    def team_decline(self, request, pk=None):
        obj = self.get_object()
        data = self._payload(RequestReasonSerializer)
        self._call(
            services.service_request_team_decline,
            actor=request.user,
            request=obj,
            reason=data["reason"],
        )
        return self._reply(obj)

    @extend_schema(request=None, responses=ServiceRequestSerializer)
    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        obj = self.get_object()
        self._call(services.service_request_claim, user=request.user, request=obj)
        return self._reply(obj)

    @extend_schema(request=CompleteSerializer, responses=ServiceRequestSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        obj = self.get_object()
        note = request.data.get("note", "")
        photos = request.FILES.getlist("photos") if hasattr(request, "FILES") else []
        self._call(
            services.service_request_complete,
            user=request.user,
            request=obj,
            note=note if isinstance(note, str) else "",
            photos=photos,
        )
        return self._reply(obj)

    @extend_schema(request=None, responses=ServiceRequestSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        obj = self.get_object()
        self._call(services.service_request_close, actor=request.user, request=obj)
        return self._reply(obj)


ROUTES: list[tuple[str, type, str]] = [
    ("service-requests", ServiceRequestViewSet, "service-request"),
]
