"""REST API for points: the rules (everyone reads, the city's administrators write) and the
ledger (read only, scoped: one's own entries, and those of the volunteers one oversees)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import mixins, serializers, viewsets
from rest_framework.permissions import IsAuthenticated

from apps.accounts.models import ServiceCategory
from apps.core.api import ScopedModelViewSet, as_drf_validation_error

from . import selectors, services
from .models import PointsEntry, PointsRule


class PointsRuleSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    category = serializers.PrimaryKeyRelatedField(
        queryset=ServiceCategory.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = PointsRule
        fields = [
            "id",
            "kind",
            "kind_label",
            "category",
            "stars",
            "points",
            "cap_per_day",
            "cap_per_activity",
            "cap_per_year",
            "effective_from",
            "effective_to",
            "version",
            "withdrawn_at",
            "note",
            "created_at",
        ]
        read_only_fields = ["version", "withdrawn_at", "created_at"]

    def validate(self, attrs):
        # The service and the model decide (overlaps, signs); skip DRF's own model checks.
        return attrs


class PointsRuleViewSet(ScopedModelViewSet):
    """Points rules and their versions. A change to a rule that has posted points creates a
    new version from ``effective_from``; the old version's entries stay as they were."""

    queryset = PointsRule.objects.all()
    serializer_class = PointsRuleSerializer
    filterset_fields = ["kind", "category"]

    def get_queryset(self):
        return selectors.points_rule_list(user=self.request.user)

    def perform_create(self, serializer):
        try:
            serializer.instance = services.points_rule_create(
                actor=self.request.user, **serializer.validated_data
            )
        except DjangoValidationError as error:
            raise as_drf_validation_error(error) from error

    def perform_update(self, serializer):
        try:
            serializer.instance = services.points_rule_change(
                actor=self.request.user, rule=serializer.instance, **serializer.validated_data
            )
        except DjangoValidationError as error:
            raise as_drf_validation_error(error) from error


class PointsEntrySerializer(serializers.ModelSerializer):
    volunteer_name = serializers.CharField(source="volunteer.get_full_name", read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    source_label = serializers.CharField(source="get_source_type_display", read_only=True)

    class Meta:
        model = PointsEntry
        fields = [
            "id",
            "volunteer",
            "volunteer_name",
            "points",
            "kind",
            "kind_label",
            "rule",
            "rule_version",
            "source_type",
            "source_label",
            "source_id",
            "activity",
            "reason",
            "counted_on",
            "reverses",
            "created_at",
        ]
        read_only_fields = fields


class PointsEntryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """积分明细: filter with ``year``, ``kind``, ``volunteer``; ``mine=1`` for one's own."""

    permission_classes = [IsAuthenticated]
    serializer_class = PointsEntrySerializer
    filterset_fields = ["volunteer", "source_type"]

    def get_queryset(self):
        params = self.request.query_params
        year = params.get("year")
        return selectors.points_entry_list(
            user=self.request.user,
            year=int(year) if year and year.isdigit() else None,
            kind=params.get("kind") or None,
            mine=params.get("mine") == "1",
        )


#: (prefix, viewset, basename) registered by volunteer_platform/api.py
ROUTES: list[tuple[str, type, str]] = [
    ("points-rules", PointsRuleViewSet, "points-rule"),
    ("points-entries", PointsEntryViewSet, "points-entry"),
]
