"""REST API for the roll-up: read only and scoped. A branch's secretary reads their subtree's
rows; a volunteer their own summary (``mine=1``); the city's administrators everything."""

from rest_framework import mixins, serializers, viewsets
from rest_framework.permissions import IsAuthenticated

from . import selectors
from .models import AssessmentYear, OrganizationYearSummary, TeamYearSummary, VolunteerYearSummary


def _year_param(request):
    year = request.query_params.get("year", "")
    return int(year) if year.isdigit() else None


class ReadOnly(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated]


class AssessmentYearSerializer(serializers.ModelSerializer):
    progress_percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = AssessmentYear
        fields = [
            "id",
            "year",
            "status",
            "closed_at",
            "run_status",
            "run_parts_total",
            "run_parts_done",
            "progress_percent",
            "run_started_at",
            "run_finished_at",
            "run_message",
        ]
        read_only_fields = fields


class AssessmentYearViewSet(ReadOnly):
    serializer_class = AssessmentYearSerializer

    def get_queryset(self):
        return selectors.assessment_year_list(user=self.request.user)


class VolunteerYearSummarySerializer(serializers.ModelSerializer):
    year = serializers.IntegerField(source="assessment_year.year", read_only=True)
    volunteer_name = serializers.CharField(source="volunteer.real_name", read_only=True)
    organization_name = serializers.CharField(
        source="organization.name", read_only=True, default=None
    )
    hours = serializers.DecimalField(max_digits=10, decimal_places=2, read_only=True)

    class Meta:
        model = VolunteerYearSummary
        fields = [
            "id",
            "year",
            "volunteer",
            "volunteer_name",
            "organization",
            "organization_name",
            "approved_minutes",
            "hours",
            "records",
            "on_time_records",
            "points",
            "ratings",
            "average_rating",
            "pledges_kept",
            "training_hours",
            "visits",
            "rank_in_organization",
        ]
        read_only_fields = fields


class VolunteerYearSummaryViewSet(ReadOnly):
    """Filter with ``year``, ``organization``; ``mine=1`` for one's own."""

    serializer_class = VolunteerYearSummarySerializer

    def get_queryset(self):
        params = self.request.query_params
        organization = params.get("organization", "")
        return selectors.volunteer_summary_list(
            user=self.request.user,
            year=_year_param(self.request),
            organization_id=int(organization) if organization.isdigit() else None,
            mine=params.get("mine") == "1",
        )


class TeamYearSummarySerializer(serializers.ModelSerializer):
    year = serializers.IntegerField(source="assessment_year.year", read_only=True)
    team_name = serializers.CharField(source="team.name", read_only=True)
    hours = serializers.DecimalField(max_digits=10, decimal_places=2, read_only=True)

    class Meta:
        model = TeamYearSummary
        fields = [
            "id",
            "year",
            "team",
            "team_name",
            "members",
            "approved_minutes",
            "hours",
            "records",
            "activities",
            "ratings",
            "average_rating",
        ]
        read_only_fields = fields


class TeamYearSummaryViewSet(ReadOnly):
    serializer_class = TeamYearSummarySerializer

    def get_queryset(self):
        return selectors.team_summary_list(user=self.request.user, year=_year_param(self.request))


RATES = [
    "participation_rate",
    "hours_per_member",
    "residence_report_rate",
    "pairing_rate",
    "four_facts_rate",
    "request_completion_rate",
    "satisfaction",
    "on_time_rate",
]


class OrganizationYearSummarySerializer(serializers.ModelSerializer):
    year = serializers.IntegerField(source="assessment_year.year", read_only=True)
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    participation_rate = serializers.DecimalField(max_digits=8, decimal_places=2, read_only=True)
    hours_per_member = serializers.DecimalField(max_digits=8, decimal_places=2, read_only=True)
    residence_report_rate = serializers.DecimalField(max_digits=8, decimal_places=2, read_only=True)
    pairing_rate = serializers.DecimalField(max_digits=8, decimal_places=2, read_only=True)
    four_facts_rate = serializers.DecimalField(max_digits=8, decimal_places=2, read_only=True)
    request_completion_rate = serializers.DecimalField(
        max_digits=8, decimal_places=2, read_only=True
    )
    satisfaction = serializers.DecimalField(max_digits=8, decimal_places=2, read_only=True)
    on_time_rate = serializers.DecimalField(max_digits=8, decimal_places=2, read_only=True)

    class Meta:
        model = OrganizationYearSummary
        fields = [
            "id",
            "year",
            "organization",
            "organization_name",
            "members",
            "participating_members",
            "approved_minutes",
            "records",
            "on_time_records",
            "in_service_members",
            "reported_members",
            "party_volunteers",
            "paired_volunteers",
            "households",
            "households_known",
            "requests",
            "requests_completed",
            "ratings",
            "rating_stars_total",
            *RATES,
        ]
        read_only_fields = fields


class OrganizationYearSummaryViewSet(ReadOnly):
    serializer_class = OrganizationYearSummarySerializer

    def get_queryset(self):
        return selectors.organization_summary_list(
            user=self.request.user, year=_year_param(self.request)
        )


#: (prefix, viewset, basename) registered by volunteer_platform/api.py
ROUTES: list[tuple[str, type, str]] = [
    ("assessment-years", AssessmentYearViewSet, "assessment-year"),
    ("volunteer-year-summaries", VolunteerYearSummaryViewSet, "volunteer-year-summary"),
    ("team-year-summaries", TeamYearSummaryViewSet, "team-year-summary"),
    ("organization-year-summaries", OrganizationYearSummaryViewSet, "organization-year-summary"),
]
