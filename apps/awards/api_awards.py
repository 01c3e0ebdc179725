"""REST API of the awards workflow: categories and quotas (read), nominations (nominate,
withdraw, decide), objections during the publicity (raise, resolve) and awards (read).

Every write calls the service in ``nominations.py``: its ``ValidationError`` becomes a 400 with
the message, its ``PermissionDenied`` a 403; objects outside the user's scope are a 404.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from apps.accounts.models import User
from apps.core.api import as_drf_validation_error
from apps.teams.models import Team

from . import award_selectors, nominations
from .models import (
    AssessmentYear,
    Award,
    AwardCategory,
    Nomination,
    NominationStatus,
    Objection,
    Quota,
)


def _call(service, **kwargs):
    try:
        return service(**kwargs)
    except DjangoValidationError as error:
        raise as_drf_validation_error(error) from error


class ReadOnly(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated]


class AwardCategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = AwardCategory
        fields = [
            "id",
            "name",
            "kind",
            "description",
            "awarding_unit",
            "party_members_only",
            "min_hours",
            "min_points",
            "min_average_rating",
            "max_rejected_records",
            "publicity_days",
            "active",
            "order",
        ]
        read_only_fields = fields


class AwardCategoryViewSet(ReadOnly):
    serializer_class = AwardCategorySerializer

    def get_queryset(self):
        return AwardCategory.objects.visible_to(self.request.user)


class QuotaSerializer(serializers.ModelSerializer):
    year = serializers.IntegerField(source="assessment_year.year", read_only=True)
    organization_name = serializers.CharField(source="organization.name", read_only=True)

    class Meta:
        model = Quota
        fields = ["id", "year", "category", "organization", "organization_name", "places"]
        read_only_fields = fields


class QuotaViewSet(ReadOnly):
    """Quotas on the user's subtree and on the organisations above it."""

    serializer_class = QuotaSerializer

    def get_queryset(self):
        return (
            Quota.objects.visible_to(self.request.user)
            .select_related("assessment_year", "organization")
            .order_by("-assessment_year__year", "category_id", "organization__path", "id")
        )


class NominationSerializer(serializers.ModelSerializer):
    year = serializers.IntegerField(source="assessment_year.year", read_only=True)
    category_name = serializers.CharField(source="category.name", read_only=True)
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    candidate_name = serializers.CharField(read_only=True)

    class Meta:
        model = Nomination
        fields = [
            "id",
            "year",
            "category",
            "category_name",
            "organization",
            "organization_name",
            "volunteer",
            "team",
            "candidate_name",
            "deeds",
            "hours",
            "points",
            "status",
            "publicity_starts_on",
            "publicity_ends_on",
            "created_at",
            "decided_at",
            "decision_note",
        ]
        read_only_fields = fields


class NominationCreateSerializer(serializers.Serializer):
    year = serializers.IntegerField(label=_("year"), min_value=2000, max_value=2100)
    category = serializers.PrimaryKeyRelatedField(
        label=_("category"), queryset=AwardCategory.objects.all()
    )
    volunteer = serializers.IntegerField(label=_("volunteer"), required=False, allow_null=True)
    team = serializers.IntegerField(label=_("team"), required=False, allow_null=True)
    deeds = serializers.CharField(label=_("main deeds"), max_length=5000, allow_blank=True)


class NominationWithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(label=_("reason"), max_length=1000, allow_blank=True)


class NominationDecisionSerializer(serializers.Serializer):
    awarded = serializers.BooleanField(label=_("awarded"))
    note = serializers.CharField(
        label=_("reason"), max_length=2000, required=False, allow_blank=True, default=""
    )


def _scoped(queryset, user, pk):
    """The object with that id if the user sees it, else a 404."""
    if pk is None:
        return None
    obj = queryset.visible_to(user).filter(pk=pk).first()
    if obj is None:
        raise NotFound
    return obj


YEAR_PARAMETERS = [
    OpenApiParameter("year", int, description="assessment year"),
    OpenApiParameter("category", int),
    OpenApiParameter("status", str, enum=NominationStatus.values),
]


@extend_schema_view(list=extend_schema(parameters=YEAR_PARAMETERS))
class NominationViewSet(mixins.CreateModelMixin, ReadOnly):
    """Nominations of the user's subtree; a branch nominates its members and teams."""

    serializer_class = NominationSerializer

    def get_queryset(self):
        params = self.request.query_params
        year, category = params.get("year", ""), params.get("category", "")
        return award_selectors.nomination_list(
            user=self.request.user,
            assessment_year=int(year) if year.isdigit() else None,
            category=int(category) if category.isdigit() else None,
            status=params.get("status") or None,
        )

    def _respond(self, nomination, code=status.HTTP_200_OK):
        nomination = self.get_queryset().get(pk=nomination.pk)
        return Response(NominationSerializer(nomination).data, status=code)

    @extend_schema(request=NominationCreateSerializer, responses={201: NominationSerializer})
    def create(self, request, *args, **kwargs):
        payload = NominationCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        nomination = _call(
            nominations.nomination_create,
            actor=request.user,
            assessment_year=AssessmentYear.objects.get_or_create(year=data["year"])[0],
            category=data["category"],
            deeds=data["deeds"],
            volunteer=_scoped(User.objects, request.user, data.get("volunteer")),
            team=_scoped(Team.objects, request.user, data.get("team")),
        )
        return self._respond(nomination, status.HTTP_201_CREATED)

    @extend_schema(request=NominationWithdrawSerializer, responses=NominationSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        nomination = self.get_object()
        payload = NominationWithdrawSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        _call(
            nominations.nomination_withdraw,
            actor=request.user,
            nomination=nomination,
            reason=payload.validated_data["reason"],
        )
        return self._respond(nomination)

    @extend_schema(request=NominationDecisionSerializer, responses=NominationSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        nomination = self.get_object()
        payload = NominationDecisionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        _call(
            nominations.nomination_decide,
            actor=request.user,
            nomination=nomination,
            awarded=payload.validated_data["awarded"],
            note=payload.validated_data["note"],
        )
        return self._respond(nomination)


class ObjectionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Objection
        fields = [
            "id",
            "nomination",
            "text",
            "contact",
            "created_at",
            "status",
            "resolution",
            "resolved_at",
        ]
        read_only_fields = fields


class ObjectionCreateSerializer(serializers.Serializer):
    nomination = serializers.IntegerField(label=_("nomination"))
    text = serializers.CharField(label=_("objection"), max_length=5000, allow_blank=True)
    contact = serializers.CharField(
        label=_("contact"), max_length=200, required=False, allow_blank=True, default=""
    )


class ObjectionResolutionSerializer(serializers.Serializer):
    upheld = serializers.BooleanField(label=_("upheld"))
    resolution = serializers.CharField(label=_("finding"), max_length=5000, allow_blank=True)


class ObjectionViewSet(mixins.CreateModelMixin, ReadOnly):
    """Objections the user raised, and those on nominations of their subtree."""

    serializer_class = ObjectionSerializer

    def get_queryset(self):
        return Objection.objects.visible_to(self.request.user).order_by("-created_at", "-id")

    @extend_schema(request=ObjectionCreateSerializer, responses={201: ObjectionSerializer})
    def create(self, request, *args, **kwargs):
        payload = ObjectionCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        # Anyone may object to a publicised nomination; others must be in the user's scope.
        nomination = (
            Nomination.objects.filter(pk=data["nomination"])
            .filter(
                Q(status=NominationStatus.PUBLICITY)
                | Q(pk__in=Nomination.objects.visible_to(request.user).values("pk"))
            )
            .first()
        )
        if nomination is None:
            raise NotFound
        objection = _call(
            nominations.objection_create,
            actor=request.user,
            nomination=nomination,
            text=data["text"],
            contact=data["contact"],
        )
        return Response(ObjectionSerializer(objection).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ObjectionResolutionSerializer, responses=ObjectionSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        objection = self.get_object()
        payload = ObjectionResolutionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        objection = _call(
            nominations.objection_resolve,
            actor=request.user,
            objection=objection,
            upheld=payload.validated_data["upheld"],
            resolution=payload.validated_data["resolution"],
        )
        return Response(ObjectionSerializer(objection).data)


class AwardSerializer(serializers.ModelSerializer):
    year = serializers.IntegerField(source="assessment_year.year", read_only=True, default=None)
    candidate_name = serializers.SerializerMethodField()

    class Meta:
        model = Award
        fields = [
            "id",
            "volunteer",
            "team",
            "candidate_name",
            "name",
            "awarded_on",
            "awarding_unit",
            "category",
            "year",
            "nomination",
            "note",
        ]
        read_only_fields = fields

    def get_candidate_name(self, obj) -> str:
        if obj.volunteer_id:
            return obj.volunteer.real_name or obj.volunteer.username
        return obj.team.name


@extend_schema_view(list=extend_schema(parameters=[OpenApiParameter("mine", int, enum=[1])]))
class AwardViewSet(ReadOnly):
    """Awards in the user's scope; ``mine=1`` for one's own record."""

    serializer_class = AwardSerializer

    def get_queryset(self):
        return award_selectors.award_list(
            user=self.request.user, mine=self.request.query_params.get("mine") == "1"
        )


#: (prefix, viewset, basename) registered by volunteer_platform/api.py
ROUTES: list[tuple[str, type, str]] = [
    ("award-categories", AwardCategoryViewSet, "award-category"),
    ("award-quotas", QuotaViewSet, "award-quota"),
    ("nominations", NominationViewSet, "nomination"),
    ("objections", ObjectionViewSet, "objection"),
    ("awards", AwardViewSet, "award"),
]
