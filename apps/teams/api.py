"""DRF serializers and viewsets; ``ROUTES`` is registered by volunteer_platform/api.py."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.accounts.models import ServiceCategory, User
from apps.accounts.validators import normalize_phone
from apps.core.api import ScopedModelViewSet, ScopedObjectPermission, as_drf_validation_error
from apps.core.scoping import user_can_manage
from apps.organizations.api import ScopedPrimaryKeyField
from apps.organizations.models import PartyOrganization

from . import selectors, services
from .models import Team, TeamMembership, TeamMembershipStatus


class TeamSerializer(serializers.ModelSerializer):
    organization = ScopedPrimaryKeyField(queryset=PartyOrganization.objects.all())
    service_categories = serializers.PrimaryKeyRelatedField(
        queryset=ServiceCategory.objects.filter(is_active=True), many=True, required=False
    )
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    active_member_count = serializers.IntegerField(read_only=True)
    pairing_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Team
        fields = [
            "id",
            "organization",
            "organization_name",
            "name",
            "kind",
            "service_categories",
            "brand_name",
            "description",
            "founded_on",
            "contact_phone",
            "is_active",
            "active_member_count",
            "pairing_count",
        ]
        read_only_fields = ["is_active"]
        # Uniqueness is the service's to check, with its own message.
        validators = []


class TeamDirectorySerializer(serializers.ModelSerializer):
    """What anyone signed in may read about an active team."""

    organization_name = serializers.CharField(source="organization.name", read_only=True)
    service_categories = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    active_member_count = serializers.IntegerField(read_only=True)
    pairing_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Team
        fields = [
            "id",
            "name",
            "organization_name",
            "kind",
            "service_categories",
            "brand_name",
            "description",
            "founded_on",
            "active_member_count",
            "pairing_count",
        ]
        read_only_fields = fields


class TeamViewSet(ScopedModelViewSet):
    queryset = Team.objects.all()
    serializer_class = TeamSerializer
    filterset_fields = ["organization", "kind", "is_active"]

    def get_queryset(self):
        return selectors.team_list(user=self.request.user)

    def get_permissions(self):
        if self.action == "directory":
            return [permissions.IsAuthenticated()]
        return super().get_permissions()

    def _reload(self, team):
        return selectors.team_list(user=self.request.user).filter(pk=team.pk).first() or team

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        categories = data.pop("service_categories", [])
        try:
            team = services.team_create(
                actor=self.request.user, service_categories=categories, **data
            )
        except DjangoValidationError as error:
            raise as_drf_validation_error(error) from error
        serializer.instance = self._reload(team)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        categories = data.pop("service_categories", None)
        try:
            team = services.team_update(
                actor=self.request.user,
                team=serializer.instance,
                data=data,
                service_categories=categories,
            )
        except DjangoValidationError as error:
            raise as_drf_validation_error(error) from error
        serializer.instance = self._reload(team)

    @extend_schema(
        parameters=[
            OpenApiParameter("search", str, description="Part of the name or brand"),
            OpenApiParameter("category", str, description="Service category code or name"),
            OpenApiParameter("kind", str),
        ],
        responses=TeamDirectorySerializer(many=True),
    )
    @action(detail=False, methods=["get"], filterset_fields=[], filter_backends=[])
    def directory(self, request):
        """Every active team: what the portal's team directory shows."""
        queryset = selectors.team_directory(
            search=request.query_params.get("search", ""),
            category=request.query_params.get("category", ""),
            kind=request.query_params.get("kind", ""),
        )
        page = self.paginate_queryset(queryset)
        serializer = TeamDirectorySerializer(page, many=True, context={"request": request})
        return self.get_paginated_response(serializer.data)


class TeamMembershipPermission(ScopedObjectPermission):
    """Anyone signed in may apply (the service checks the rest); deciding needs the team."""

    SELF_ACTIONS = frozenset({"accept", "leave"})

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request, view, obj):
        if request.method in permissions.SAFE_METHODS:
            return True
        if view.action in self.SELF_ACTIONS:
            return obj.user_id == request.user.pk
        if view.action == "decline" and obj.user_id == request.user.pk:
            return obj.status == TeamMembershipStatus.INVITED
        return user_can_manage(request.user, obj)


class TeamMembershipSerializer(serializers.ModelSerializer):
    user_name = serializers.CharField(source="user.real_name", read_only=True)
    team_name = serializers.CharField(source="team.name", read_only=True)

    class Meta:
        model = TeamMembership
        fields = [
            "id",
            "team",
            "team_name",
            "user",
            "user_name",
            "role",
            "status",
            "message",
            "created_at",
            "joined_on",
            "left_on",
            "decline_reason",
            "family_group",
            "guardian",
        ]
        read_only_fields = fields


class TeamMembershipCreateSerializer(serializers.Serializer):
    """Without ``phone``: apply to the team yourself. With it: the team invites that person."""

    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all())
    message = serializers.CharField(max_length=255, required=False, allow_blank=True)
    phone = serializers.CharField(
        max_length=32, required=False, allow_blank=True, label=_("invitee's mobile phone")
    )

    def validate_team(self, team):
        user = self.context["request"].user
        if not selectors.team_public_queryset(user=user).filter(pk=team.pk).exists():
            raise serializers.ValidationError(_("No such team."), code="does_not_exist")
        return team

    def validate_phone(self, phone):
        if not phone:
            return None
        invitee = User.objects.filter(phone=normalize_phone(phone), is_active=True).first()
        if invitee is None:
            raise serializers.ValidationError(
                _("Nobody is registered with this mobile number."), code="unknown_phone"
            )
        return invitee


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True)


class LeaveSerializer(serializers.Serializer):
    left_on = serializers.DateField(required=False)


class TeamMembershipViewSet(ScopedModelViewSet):
    queryset = TeamMembership.objects.all()
    serializer_class = TeamMembershipSerializer
    permission_classes = [TeamMembershipPermission]
    filterset_fields = ["team", "status", "role", "user"]
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self):
        return selectors.team_membership_list(user=self.request.user)

    def _respond(self, membership, status=200):
        data = TeamMembershipSerializer(membership, context={"request": self.request}).data
        return Response(data, status=status)

    def _call(self, service, **kwargs):
        try:
            return service(**kwargs)
        except DjangoValidationError as error:
            raise as_drf_validation_error(error) from error

    @extend_schema(request=TeamMembershipCreateSerializer, responses=TeamMembershipSerializer)
    def create(self, request, *args, **kwargs):
        payload = TeamMembershipCreateSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        invitee = data.get("phone")
        if invitee is not None:
            membership = self._call(
                services.team_membership_invite, actor=request.user, team=data["team"], user=invitee
            )
        else:
            membership = self._call(
                services.team_membership_apply,
                user=request.user,
                team=data["team"],
                message=data.get("message", ""),
            )
        return self._respond(membership, status=201)

    @extend_schema(request=None, responses=TeamMembershipSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        membership = self.get_object()
        return self._respond(
            self._call(services.team_membership_approve, actor=request.user, membership=membership)
        )

    @extend_schema(request=ReasonSerializer, responses=TeamMembershipSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        """The team declines an application (with a reason), or the invitee an invitation."""
        membership = self.get_object()
        payload = ReasonSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        if membership.user_id == request.user.pk and membership.status == "invited":
            result = self._call(
                services.team_invitation_decline, user=request.user, membership=membership
            )
        else:
            result = self._call(
                services.team_membership_decline,
                actor=request.user,
                membership=membership,
                reason=payload.validated_data.get("reason", ""),
            )
        return self._respond(result)

    @extend_schema(request=None, responses=TeamMembershipSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        membership = self.get_object()
        return self._respond(
            self._call(services.team_invitation_accept, user=request.user, membership=membership)
        )

    @extend_schema(request=LeaveSerializer, responses=TeamMembershipSerializer)
    @action(detail=True, methods=["post"])
    def leave(self, request, pk=None):
        membership = self.get_object()
        payload = LeaveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._respond(
            self._call(
                services.team_membership_leave,
                user=request.user,
                membership=membership,
                left_on=payload.validated_data.get("left_on"),
            )
        )

    @extend_schema(request=ReasonSerializer, responses=TeamMembershipSerializer)
    @action(detail=True, methods=["post"])
    def remove(self, request, pk=None):
        membership = self.get_object()
        payload = ReasonSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._respond(
            self._call(
                services.team_membership_remove,
                actor=request.user,
                membership=membership,
                reason=payload.validated_data.get("reason", ""),
            )
        )


ROUTES: list[tuple[str, type, str]] = [
    ("teams", TeamViewSet, "team"),
    ("team-memberships", TeamMembershipViewSet, "team-membership"),
]
