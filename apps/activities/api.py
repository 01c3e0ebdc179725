"""DRF serializers and viewsets; ``ROUTES`` is registered by volunteer_platform/api.py.

Every write goes through ``services``; every list starts from the scoped selectors. Sign-up
and check-in are open to anyone signed in who sees the activity (the services decide); changes
need a role that manages the activity (403 for those who only see it).
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from apps.accounts.models import ServiceCategory, User
from apps.communities.models import Community, ServicePoint
from apps.core.api import ScopedObjectPermission, as_drf_validation_error
from apps.core.scoping import get_user_scope, user_can_manage
from apps.organizations.api import ScopedPrimaryKeyField
from apps.organizations.models import PartyOrganization
from apps.teams.models import LEADING_ROLES, Team, TeamMembership, TeamMembershipStatus

from . import selectors, services
from .models import (
    Activity,
    ActivityPlan,
    ActivityPlanItem,
    Campaign,
    CampaignKind,
    Signup,
)


def _leads_any_team(user) -> bool:
    return TeamMembership.objects.filter(
        user=user, status=TeamMembershipStatus.ACTIVE, role__in=LEADING_ROLES
    ).exists()


class ActivityPermission(ScopedObjectPermission):
    """The scoped contract, where team leaders (who hold no organisation role) may create.

    ``open_actions``: anyone signed in who sees the object may try (the service decides);
    ``owner_or_manager_actions``: the volunteer the sign-up belongs to, or its organisers.
    """

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method in permissions.SAFE_METHODS or getattr(view, "detail", False):
            return True
        if view.action in getattr(view, "open_actions", ()):
            return True
        return get_user_scope(request.user).can_manage_any or (
            getattr(view, "leaders_create", False) and _leads_any_team(request.user)
        )

    def has_object_permission(self, request, view, obj):
        if request.method in permissions.SAFE_METHODS:
            return True
        if view.action in getattr(view, "open_actions", ()):
            return True
        owner_or_manager = getattr(view, "owner_or_manager_actions", ())
        if view.action in owner_or_manager and getattr(obj, "volunteer_id", None) == (
            request.user.pk
        ):
            return True
        return user_can_manage(request.user, obj)


class ServiceCallMixin:
    permission_classes = [ActivityPermission]
    open_actions: frozenset[str] = frozenset()
    owner_or_manager_actions: frozenset[str] = frozenset()

    def call(self, service, **kwargs):
        try:
            return service(**kwargs)
        except DjangoValidationError as error:
            raise as_drf_validation_error(error) from error
        except DjangoPermissionDenied as error:
            raise PermissionDenied(str(error) or None) from error

    def reply(self, data, status_code=status.HTTP_200_OK):
        return Response(data, status=status_code)


# Activities ----------------------------------------------------------------------------------


class ActivitySerializer(serializers.ModelSerializer):
    category = serializers.PrimaryKeyRelatedField(
        queryset=ServiceCategory.objects.filter(is_active=True)
    )
    organization = ScopedPrimaryKeyField(
        queryset=PartyOrganization.objects.all(), required=False, allow_null=True
    )
    team = ScopedPrimaryKeyField(queryset=Team.objects.all(), required=False, allow_null=True)
    community = serializers.PrimaryKeyRelatedField(
        queryset=Community.objects.filter(is_active=True), required=False, allow_null=True
    )
    service_point = serializers.PrimaryKeyRelatedField(
        queryset=ServicePoint.objects.filter(is_active=True), required=False, allow_null=True
    )
    responsible = ScopedPrimaryKeyField(
        queryset=User.objects.all(), required=False, allow_null=True
    )
    plan_item = ScopedPrimaryKeyField(
        queryset=ActivityPlanItem.objects.all(), required=False, allow_null=True
    )
    status = serializers.CharField(read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    category_name = serializers.CharField(source="category.name", read_only=True)
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    team_name = serializers.CharField(source="team.name", read_only=True, default="")
    community_name = serializers.CharField(source="community.name", read_only=True, default="")
    confirmed_count = serializers.IntegerField(read_only=True)
    waitlisted_count = serializers.IntegerField(read_only=True)
    remaining_places = serializers.IntegerField(read_only=True)

    class Meta:
        model = Activity
        fields = [
            "id",
            "title",
            "category",
            "category_name",
            "organization",
            "organization_name",
            "team",
            "team_name",
            "community",
            "community_name",
            "service_point",
            "starts_at",
            "ends_at",
            "place",
            "capacity",
            "description",
            "risks",
            "training_required",
            "responsible",
            "plan_item",
            "status",
            "status_display",
            "cancel_reason",
            "series",
            "campaign",
            "closed_at",
            "confirmed_count",
            "waitlisted_count",
            "remaining_places",
        ]
        read_only_fields = ["cancel_reason", "series", "campaign", "closed_at"]
        # The services check the rules, with their own messages.
        validators = []


class ActivityCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000, allow_blank=True, label=_("reason"))


class SignupSerializer(serializers.ModelSerializer):
    activity_title = serializers.CharField(source="activity.title", read_only=True)
    volunteer_name = serializers.CharField(source="volunteer.real_name", read_only=True)
    status = serializers.CharField(read_only=True)
    attendance = serializers.CharField(read_only=True)
    check_in_method = serializers.CharField(read_only=True)
    check_out_method = serializers.CharField(read_only=True)

    class Meta:
        model = Signup
        fields = [
            "id",
            "activity",
            "activity_title",
            "volunteer",
            "volunteer_name",
            "status",
            "attendance",
            "checked_in_at",
            "check_in_method",
            "checked_out_at",
            "check_out_method",
            "created_at",
            "cancelled_at",
        ]
        read_only_fields = fields


class ActivityViewSet(ServiceCallMixin, viewsets.ModelViewSet):
    """Published activities for everyone signed in, plus what the user organises."""

    queryset = Activity.objects.all()
    serializer_class = ActivitySerializer
    filterset_fields = ["status", "category", "community", "team", "organization"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    open_actions = frozenset({"signup"})
    leaders_create = True

    def get_queryset(self):
        return selectors.activity_queryset(user=self.request.user).order_by("-starts_at", "-pk")

    def _reload(self, activity):
        return self.get_queryset().get(pk=activity.pk)

    def perform_create(self, serializer):
        activity = self.call(
            services.activity_create, actor=self.request.user, **serializer.validated_data
        )
        serializer.instance = self._reload(activity)

    def perform_update(self, serializer):
        activity = self.call(
            services.activity_update,
            actor=self.request.user,
            activity=serializer.instance,
            **serializer.validated_data,
        )
        serializer.instance = self._reload(activity)

    def _activity_reply(self, activity):
        data = ActivitySerializer(self._reload(activity), context=self.get_serializer_context())
        return self.reply(data.data)

    @extend_schema(request=None, responses=ActivitySerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        activity = self.get_object()
        return self._activity_reply(
            self.call(services.activity_publish, actor=request.user, activity=activity)
        )

    @extend_schema(request=ActivityCancelSerializer, responses=ActivitySerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        activity = self.get_object()
        payload = ActivityCancelSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._activity_reply(
            self.call(
                services.activity_cancel,
                actor=request.user,
                activity=activity,
                reason=payload.validated_data["reason"],
            )
        )

    @extend_schema(request=None, responses=SignupSerializer)
    @action(detail=True, methods=["post"])
    def signup(self, request, pk=None):
        activity = self.get_object()
        signup = self.call(services.signup_create, volunteer=request.user, activity=activity)
        return self.reply(SignupSerializer(signup).data, status.HTTP_201_CREATED)


# Sign-ups ------------------------------------------------------------------------------------


class CheckinTokenSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=500, label=_("QR code"))
    activity = serializers.IntegerField(required=False, label=_("expected activity"))


class AttendanceMarkSerializer(serializers.Serializer):
    checked_in_at = serializers.DateTimeField(label=_("checked in at"))
    checked_out_at = serializers.DateTimeField(label=_("checked out at"))


class SignupViewSet(
    ServiceCallMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Your sign-ups, and those of the activities you organise."""

    queryset = Signup.objects.all()
    serializer_class = SignupSerializer
    filterset_fields = ["activity", "status", "attendance"]
    open_actions = frozenset({"check_in", "check_out"})
    owner_or_manager_actions = frozenset({"cancel"})

    def get_queryset(self):
        return selectors.signup_list(user=self.request.user).order_by("-created_at", "-pk")

    def _signup_reply(self, signup):
        return self.reply(SignupSerializer(self.get_queryset().get(pk=signup.pk)).data)

    @extend_schema(request=None, responses=SignupSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        signup = self.get_object()
        return self._signup_reply(
            self.call(services.signup_cancel, actor=request.user, signup=signup)
        )

    def _by_token(self, request, service):
        payload = CheckinTokenSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        expected = None
        if payload.validated_data.get("activity") is not None:
            expected = Activity(pk=payload.validated_data["activity"])
        signup = self.call(
            service,
            volunteer=request.user,
            token=payload.validated_data["token"],
            activity=expected,
        )
        return self._signup_reply(signup)

    @extend_schema(request=CheckinTokenSerializer, responses=SignupSerializer)
    @action(detail=False, methods=["post"], url_path="check-in")
    def check_in(self, request):
        return self._by_token(request, services.signup_check_in)

    @extend_schema(request=CheckinTokenSerializer, responses=SignupSerializer)
    @action(detail=False, methods=["post"], url_path="check-out")
    def check_out(self, request):
        return self._by_token(request, services.signup_check_out)

    @extend_schema(request=AttendanceMarkSerializer, responses=SignupSerializer)
    @action(detail=True, methods=["post"], url_path="mark-attendance")
    def mark_attendance(self, request, pk=None):
        signup = self.get_object()
        payload = AttendanceMarkSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._signup_reply(
            self.call(
                services.attendance_mark,
                actor=request.user,
                signup=signup,
                **payload.validated_data,
            )
        )

    @extend_schema(request=None, responses=SignupSerializer)
    @action(detail=True, methods=["post"], url_path="no-show")
    def no_show(self, request, pk=None):
        signup = self.get_object()
        return self._signup_reply(
            self.call(services.signup_mark_no_show, actor=request.user, signup=signup)
        )


# Campaign days -------------------------------------------------------------------------------


@extend_schema_field({"type": "string", "enum": list(CampaignKind.values)})
class CampaignKindField(serializers.ChoiceField):
    """A choice field documented inline (a shared ``KindEnum`` would clash with other apps)."""


class CampaignSerializer(serializers.ModelSerializer):
    kind = CampaignKindField(choices=CampaignKind.choices)
    organization = ScopedPrimaryKeyField(queryset=PartyOrganization.objects.all())
    category = serializers.PrimaryKeyRelatedField(
        queryset=ServiceCategory.objects.filter(is_active=True)
    )
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    activity_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Campaign
        fields = [
            "id",
            "kind",
            "name",
            "date",
            "organization",
            "organization_name",
            "title",
            "category",
            "start_time",
            "end_time",
            "place",
            "capacity",
            "description",
            "risks",
            "activity_count",
        ]
        validators = []


class CampaignTeamsSerializer(serializers.Serializer):
    teams = serializers.ListField(
        child=serializers.IntegerField(), allow_empty=True, label=_("teams")
    )


class CampaignViewSet(ServiceCallMixin, viewsets.ModelViewSet):
    queryset = Campaign.objects.all()
    serializer_class = CampaignSerializer
    filterset_fields = ["kind", "organization"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.campaign_list(user=self.request.user).order_by("-date", "-pk")

    def perform_create(self, serializer):
        campaign = self.call(
            services.campaign_create, actor=self.request.user, **serializer.validated_data
        )
        serializer.instance = self.get_queryset().get(pk=campaign.pk)

    def perform_update(self, serializer):
        campaign = self.call(
            services.campaign_update,
            actor=self.request.user,
            campaign=serializer.instance,
            **serializer.validated_data,
        )
        serializer.instance = self.get_queryset().get(pk=campaign.pk)

    @extend_schema(request=CampaignTeamsSerializer, responses=ActivitySerializer(many=True))
    @action(detail=True, methods=["post"], url_path="create-activities")
    def create_activities(self, request, pk=None):
        campaign = self.get_object()
        payload = CampaignTeamsSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        ids = set(payload.validated_data["teams"])
        teams = list(Team.objects.visible_to(request.user).filter(pk__in=ids))
        if len(teams) != len(ids):
            raise serializers.ValidationError({"teams": [_("Choose teams from the list.")]})
        created = self.call(
            services.campaign_create_activities, actor=request.user, campaign=campaign, teams=teams
        )
        activities = selectors.activity_queryset(user=request.user).filter(
            pk__in=[a.pk for a in created]
        )
        data = ActivitySerializer(activities, many=True, context=self.get_serializer_context())
        return self.reply(data.data, status.HTTP_201_CREATED)


# Yearly plans --------------------------------------------------------------------------------


class ActivityPlanSerializer(serializers.ModelSerializer):
    organization = ScopedPrimaryKeyField(queryset=PartyOrganization.objects.all())
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    item_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = ActivityPlan
        fields = ["id", "organization", "organization_name", "year", "note", "item_count"]
        validators = []


class ActivityPlanUpdateSerializer(serializers.ModelSerializer):
    class Meta:
        model = ActivityPlan
        fields = ["note"]


class ActivityPlanItemSerializer(serializers.ModelSerializer):
    category = serializers.PrimaryKeyRelatedField(
        queryset=ServiceCategory.objects.filter(is_active=True), required=False, allow_null=True
    )
    month = serializers.IntegerField(label=_("month"))
    planned_count = serializers.IntegerField(required=False, default=1)

    class Meta:
        model = ActivityPlanItem
        fields = ["id", "project", "month", "place", "responsible", "category", "planned_count"]
        validators = []


class PlanLineSerializer(serializers.Serializer):
    item = ActivityPlanItemSerializer()
    planned = serializers.IntegerField()
    actual = serializers.IntegerField()


class UnplannedActivitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Activity
        fields = ["id", "title", "starts_at", "team"]


class PlanAgainstActualSerializer(serializers.Serializer):
    lines = PlanLineSerializer(many=True)
    unplanned = UnplannedActivitySerializer(many=True)
    planned_total = serializers.IntegerField()
    actual_total = serializers.IntegerField()


class ActivityPlanViewSet(ServiceCallMixin, viewsets.ModelViewSet):
    queryset = ActivityPlan.objects.all()
    serializer_class = ActivityPlanSerializer
    filterset_fields = ["organization", "year"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.plan_list(user=self.request.user).order_by("-year", "pk")

    def get_serializer_class(self):
        if self.action == "partial_update":
            return ActivityPlanUpdateSerializer
        return super().get_serializer_class()

    def perform_create(self, serializer):
        plan = self.call(services.plan_create, actor=self.request.user, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=plan.pk)

    def perform_update(self, serializer):
        plan = self.call(
            services.plan_update,
            actor=self.request.user,
            plan=serializer.instance,
            note=serializer.validated_data.get("note", serializer.instance.note),
        )
        serializer.instance = plan

    @extend_schema(methods=["GET"], request=None, responses=ActivityPlanItemSerializer(many=True))
    @extend_schema(
        methods=["POST"], request=ActivityPlanItemSerializer, responses=ActivityPlanItemSerializer
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filterset_fields=[])
    def items(self, request, pk=None):
        plan = self.get_object()
        if request.method == "GET":
            items = plan.items.select_related("category").order_by("month", "pk")
            return self.reply(ActivityPlanItemSerializer(items, many=True).data)
        payload = ActivityPlanItemSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        item = self.call(
            services.plan_item_add, actor=request.user, plan=plan, **payload.validated_data
        )
        return self.reply(ActivityPlanItemSerializer(item).data, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=PlanAgainstActualSerializer)
    @action(detail=True, methods=["get"], url_path="plan-against-actual", filterset_fields=[])
    def plan_against_actual(self, request, pk=None):
        plan = self.get_object()
        result = selectors.plan_against_actual(plan=plan)
        return self.reply(PlanAgainstActualSerializer(result).data)


ROUTES = [
    ("activities", ActivityViewSet, "activity"),
    ("signups", SignupViewSet, "signup"),
    ("campaigns", CampaignViewSet, "campaign"),
    ("activity-plans", ActivityPlanViewSet, "activity-plan"),
]
