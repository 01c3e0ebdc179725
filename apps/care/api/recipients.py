"""API for households, pairings and visits.

Households come masked; ``reveal`` (or ``?reveal=1`` on retrieve) returns the fields the user
may see whole and logs the view. Writes go through the services.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.accounts.models import VolunteerProfile, VolunteerStatus
from apps.communities.api import CommunityScopedViewSet
from apps.communities.models import Community
from apps.core.api import as_drf_validation_error
from apps.organizations.api import ScopedPrimaryKeyField

from .. import selectors, services
from ..models import CareCategory, CareRecipient, RecipientPairing, Visit, VisitKind

# Households ----------------------------------------------------------------------------------


class CareRecipientSerializer(serializers.ModelSerializer):
    """Masked unless the view passes ``whole_fields`` in the context."""

    community = ScopedPrimaryKeyField(queryset=Community.objects.all())
    categories = serializers.PrimaryKeyRelatedField(
        queryset=CareCategory.objects.filter(is_active=True), many=True, required=False
    )
    name = serializers.CharField(max_length=64)
    family_situation = serializers.CharField(required=False, allow_blank=True)
    health = serializers.CharField(required=False, allow_blank=True)
    address = serializers.CharField(required=False, allow_blank=True, max_length=255)
    contact = serializers.CharField(required=False, allow_blank=True, max_length=128)
    correction_status = serializers.CharField(required=False, allow_blank=True)
    completeness = serializers.IntegerField(read_only=True)
    whole_fields = serializers.SerializerMethodField()

    class Meta:
        model = CareRecipient
        fields = [
            "id",
            "community",
            "categories",
            "name",
            "family_situation",
            "family_verified_on",
            "health",
            "health_verified_on",
            "address",
            "address_verified_on",
            "contact",
            "contact_verified_on",
            "correction_status",
            "completeness",
            "is_active",
            "whole_fields",
        ]
        read_only_fields = ["is_active"]

    def _whole(self):
        return self.context.get("whole_fields", frozenset())

    def get_whole_fields(self, obj) -> list[str]:
        return sorted(self._whole())

    def to_representation(self, instance):
        data = super().to_representation(instance)
        shown = selectors.care_recipient_present(recipient=instance, whole_fields=self._whole())
        data.update(shown)
        return data


class HouseholdRevealQuerySerializer(serializers.Serializer):
    reveal = serializers.BooleanField(required=False, default=False)


class CareRecipientViewSet(CommunityScopedViewSet):
    queryset = CareRecipient.objects.all()
    serializer_class = CareRecipientSerializer
    filterset_fields = ["community", "categories", "is_active"]

    def get_queryset(self):
        return selectors.care_recipient_list(user=self.request.user, active_only=False)

    def _write_fields(self, data, *, recipient=None):
        values = dict(data)
        values.pop("community", None)
        values.pop("categories", None)
        if recipient is not None:
            # Nobody writes a field they may not read whole.
            entitled = selectors.sensitive_fields_for(user=self.request.user, recipient=recipient)
            refused = [
                f for f in CareRecipient.SENSITIVE_FIELDS if f in values and f not in entitled
            ]
            if refused:
                raise serializers.ValidationError(
                    {f: [_("You may not change this field.")] for f in refused}
                )
        return values

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = self.call(
            services.care_recipient_create,
            actor=self.request.user,
            community=data["community"],
            categories=data.get("categories", []),
            **self._write_fields(data),
        )

    def perform_update(self, serializer):
        data = serializer.validated_data
        recipient = serializer.instance
        kwargs = {}
        if "categories" in data:
            kwargs["categories"] = data["categories"]
        if "community" in data:
            kwargs["community"] = data["community"]
        serializer.instance = self.call(
            services.care_recipient_update,
            actor=self.request.user,
            recipient=recipient,
            **kwargs,
            **self._write_fields(data, recipient=recipient),
        )

    def retrieve(self, request, *args, **kwargs):
        query = HouseholdRevealQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        if query.validated_data["reveal"]:
            return self.reveal(request, *args, **kwargs)
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(request=None, responses=CareRecipientSerializer)
    @action(detail=True, methods=["get"])
    def reveal(self, request, pk=None):
        recipient = self.get_object()
        whole = services.care_recipient_reveal(user=request.user, recipient=recipient, via="api")
        context = {**self.get_serializer_context(), "whole_fields": whole}
        return Response(CareRecipientSerializer(recipient, context=context).data)


# Pairings ------------------------------------------------------------------------------------


class RecipientPairingSerializer(serializers.ModelSerializer):
    volunteer_name = serializers.CharField(source="volunteer.real_name", read_only=True)
    last_visited_on = serializers.DateField(read_only=True, allow_null=True)

    class Meta:
        model = RecipientPairing
        fields = [
            "id",
            "volunteer",
            "volunteer_name",
            "recipient",
            "started_on",
            "ended_on",
            "end_reason",
            "visit_every_days",
            "last_visited_on",
        ]
        read_only_fields = fields


def _volunteer_by_number(number: str):
    """A volunteer named by their volunteer number (shown on their profile)."""
    profile = (
        VolunteerProfile.objects.filter(volunteer_number=number, status=VolunteerStatus.ACTIVE)
        .select_related("user")
        .first()
    )
    if profile is None:
        raise serializers.ValidationError(_("No active volunteer has this number."))
    return profile.user


class HouseholdPairingCreateSerializer(serializers.Serializer):
    volunteer_number = serializers.CharField(max_length=16, label=_("volunteer number"))
    recipient = ScopedPrimaryKeyField(queryset=CareRecipient.objects.all())
    visit_every_days = serializers.IntegerField(min_value=1, max_value=365, default=30)

    def validate_volunteer_number(self, value):
        return _volunteer_by_number(value)


class HouseholdPairingEndSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255, label=_("reason for ending"))
    ended_on = serializers.DateField(required=False)


class HouseholdPairingHandoverSerializer(serializers.Serializer):
    volunteer_number = serializers.CharField(max_length=16, label=_("volunteer number"))
    reason = serializers.CharField(max_length=255, label=_("reason"))

    def validate_volunteer_number(self, value):
        return _volunteer_by_number(value)


class RecipientPairingViewSet(CommunityScopedViewSet):
    queryset = RecipientPairing.objects.all()
    serializer_class = RecipientPairingSerializer
    filterset_fields = ["recipient", "volunteer"]
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self):
        return selectors.recipient_pairing_list(user=self.request.user)

    def _reload(self, pairing):
        return self.get_queryset().get(pk=pairing.pk)

    @extend_schema(request=HouseholdPairingCreateSerializer, responses=RecipientPairingSerializer)
    def create(self, request, *args, **kwargs):
        serializer = HouseholdPairingCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            pairing = services.recipient_pairing_create(
                actor=request.user,
                volunteer=data["volunteer_number"],
                recipient=data["recipient"],
                visit_every_days=data["visit_every_days"],
            )
        except DjangoValidationError as error:
            raise as_drf_validation_error(_rename(error, volunteer="volunteer_number")) from error
        return self.reply(self._reload(pairing), status_code=status.HTTP_201_CREATED)

    @extend_schema(request=HouseholdPairingEndSerializer, responses=RecipientPairingSerializer)
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        pairing = self.get_object()
        serializer = HouseholdPairingEndSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pairing = self.call(
            services.recipient_pairing_end,
            actor=request.user,
            pairing=pairing,
            reason=serializer.validated_data["reason"],
            ended_on=serializer.validated_data.get("ended_on"),
        )
        return self.reply(self._reload(pairing))

    @extend_schema(request=HouseholdPairingHandoverSerializer, responses=RecipientPairingSerializer)
    @action(detail=True, methods=["post"])
    def handover(self, request, pk=None):
        pairing = self.get_object()
        serializer = HouseholdPairingHandoverSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            successor = services.recipient_pairing_handover(
                actor=request.user,
                pairing=pairing,
                new_volunteer=serializer.validated_data["volunteer_number"],
                reason=serializer.validated_data["reason"],
            )
        except DjangoValidationError as error:
            raise as_drf_validation_error(
                _rename(error, new_volunteer="volunteer_number")
            ) from error
        return self.reply(self._reload(successor), status_code=status.HTTP_201_CREATED)


def _rename(error: DjangoValidationError, **names) -> DjangoValidationError:
    if not hasattr(error, "error_dict"):
        return error
    return DjangoValidationError(
        {names.get(field, field): errors for field, errors in error.error_dict.items()}
    )


# Visits --------------------------------------------------------------------------------------


class VisitSerializer(serializers.ModelSerializer):
    pairing = ScopedPrimaryKeyField(queryset=RecipientPairing.objects.all())
    kind = serializers.ChoiceField(choices=VisitKind.choices, default=VisitKind.VISIT)
    notes = serializers.CharField(required=False, allow_blank=True, default="")

    class Meta:
        model = Visit
        fields = ["id", "pairing", "visited_on", "duration_minutes", "kind", "notes", "created_at"]
        read_only_fields = ["created_at"]


class VisitViewSet(CommunityScopedViewSet):
    queryset = Visit.objects.all()
    serializer_class = VisitSerializer
    filterset_fields = ["pairing", "kind"]
    http_method_names = ["get", "post", "head", "options"]
    # Volunteers record their own visits: the service decides who may.
    open_actions = frozenset({"create"})

    def get_queryset(self):
        return selectors.visit_list(user=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = self.call(
            services.visit_record, user=self.request.user, **serializer.validated_data
        )


ROUTES: list[tuple[str, type, str]] = [
    ("care-recipients", CareRecipientViewSet, "care-recipient"),
    ("recipient-pairings", RecipientPairingViewSet, "recipient-pairing"),
    ("visits", VisitViewSet, "visit"),
]
