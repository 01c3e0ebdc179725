"""REST API for the democratic appraisal: read only and scoped to the organisations the user
reaches by a role. Filter with ``year`` and ``organization``."""

from rest_framework import serializers

from .api import ReadOnly, _year_param
from .appraisal import appraisal_list
from .models import DemocraticAppraisal


class DemocraticAppraisalSerializer(serializers.ModelSerializer):
    year = serializers.IntegerField(source="assessment_year.year", read_only=True)
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    member_name = serializers.CharField(source="member.real_name", read_only=True)
    grade_display = serializers.CharField(source="get_grade_display", read_only=True)

    class Meta:
        model = DemocraticAppraisal
        fields = [
            "id",
            "year",
            "organization",
            "organization_name",
            "member",
            "member_name",
            "grade",
            "grade_display",
            "note",
            "updated_at",
        ]
        read_only_fields = fields


class DemocraticAppraisalViewSet(ReadOnly):
    """Filter with ``year`` and ``organization`` (ids)."""

    serializer_class = DemocraticAppraisalSerializer

    def get_queryset(self):
        organization = self.request.query_params.get("organization", "")
        return appraisal_list(
            user=self.request.user,
            year=_year_param(self.request),
            organization_id=int(organization) if organization.isdigit() else None,
        )


#: (prefix, viewset, basename) registered by volunteer_platform/api.py
ROUTES: list[tuple[str, type, str]] = [
    ("appraisals", DemocraticAppraisalViewSet, "appraisal"),
]
