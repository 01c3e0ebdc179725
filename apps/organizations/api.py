from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.accounts.models import User
from apps.core.api import ScopedModelViewSet, as_drf_validation_error

from . import services
from .models import Membership, OrganizationRole, PartyOrganization
from .selectors import organization_list


class ScopedPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """A reference that only accepts objects the requesting user can see."""

    def get_queryset(self):
        return self.queryset.visible_to(self.context["request"].user)


class PartyOrganizationSerializer(serializers.ModelSerializer):
    parent = ScopedPrimaryKeyField(
        queryset=PartyOrganization.objects.all(), allow_null=True, required=False
    )
    active_member_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = PartyOrganization
        fields = [
            "id",
            "name",
            "short_name",
            "code",
            "kind",
            "parent",
            "depth",
            "contact_phone",
            "address",
            "is_active",
            "active_member_count",
        ]
        read_only_fields = ["depth"]


class PartyOrganizationViewSet(ScopedModelViewSet):
    queryset = PartyOrganization.objects.all()
    serializer_class = PartyOrganizationSerializer
    filterset_fields = ["kind", "parent", "is_active"]

    def get_queryset(self):
        return organization_list(user=self.request.user)

    def _save(self, serializer):
        instance = serializer.instance or PartyOrganization()
        for field, value in serializer.validated_data.items():
            setattr(instance, field, value)
        try:
            services.organization_save(actor=self.request.user, organization=instance)
        except DjangoValidationError as error:
            raise as_drf_validation_error(error) from error
        serializer.instance = organization_list(user=self.request.user).get(pk=instance.pk)

    perform_create = _save
    perform_update = _save


class MembershipSerializer(serializers.ModelSerializer):
    user = ScopedPrimaryKeyField(queryset=User.objects.all())
    organization = ScopedPrimaryKeyField(queryset=PartyOrganization.objects.all())
    user_name = serializers.CharField(source="user.real_name", read_only=True)

    class Meta:
        model = Membership
        fields = [
            "id",
            "user",
            "user_name",
            "organization",
            "category",
            "employment",
            "joined_party_on",
            "started_on",
            "ended_on",
            "end_reason",
        ]
        read_only_fields = ["ended_on", "end_reason"]


class MembershipEndSerializer(serializers.Serializer):
    ended_on = serializers.DateField(required=False)
    reason = serializers.CharField(max_length=255, label=_("reason for leaving"))


class MembershipViewSet(ScopedModelViewSet):
    queryset = Membership.objects.select_related("user", "organization")
    serializer_class = MembershipSerializer
    filterset_fields = ["organization", "category", "employment"]
    http_method_names = ["get", "post", "head", "options"]

    def perform_create(self, serializer):
        data = serializer.validated_data
        try:
            serializer.instance = services.membership_add(actor=self.request.user, **data)
        except DjangoValidationError as error:
            raise as_drf_validation_error(error) from error

    @extend_schema(request=MembershipEndSerializer, responses=MembershipSerializer)
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        membership = self.get_object()
        payload = MembershipEndSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            services.membership_end(
                actor=request.user,
                membership=membership,
                ended_on=payload.validated_data.get("ended_on"),
                reason=payload.validated_data["reason"],
            )
        except DjangoValidationError as error:
            raise as_drf_validation_error(error) from error
        return Response(MembershipSerializer(membership, context={"request": request}).data)


class OrganizationRoleSerializer(serializers.ModelSerializer):
    user = ScopedPrimaryKeyField(queryset=User.objects.all())
    organization = ScopedPrimaryKeyField(queryset=PartyOrganization.objects.all())

    class Meta:
        model = OrganizationRole
        fields = ["id", "user", "organization", "kind", "started_on", "ended_on"]
        read_only_fields = ["started_on", "ended_on"]


class OrganizationRoleViewSet(ScopedModelViewSet):
    queryset = OrganizationRole.objects.select_related("user", "organization")
    serializer_class = OrganizationRoleSerializer
    filterset_fields = ["organization", "kind"]
    http_method_names = ["get", "post", "head", "options"]

    def perform_create(self, serializer):
        try:
            serializer.instance = services.organization_role_grant(
                actor=self.request.user, **serializer.validated_data
            )
        except DjangoValidationError as error:
            raise as_drf_validation_error(error) from error

    @extend_schema(request=None, responses=OrganizationRoleSerializer)
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        role = self.get_object()
        try:
            services.organization_role_end(actor=request.user, role=role)
        except DjangoValidationError as error:
            raise as_drf_validation_error(error) from error
        return Response(OrganizationRoleSerializer(role, context={"request": request}).data)
