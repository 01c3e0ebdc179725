"""DRF serializers and viewsets; ``ROUTES`` is registered by volunteer_platform/api.py.

Every write goes through ``services``; every list starts from the scoped selectors.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.accounts.models import ServiceCategory
from apps.core.api import ScopedModelViewSet, ScopedObjectPermission, as_drf_validation_error
from apps.core.scoping import get_user_scope, user_can_manage
from apps.organizations.api import ScopedPrimaryKeyField
from apps.organizations.models import PartyOrganization
from apps.teams.models import Team

from . import selectors, services
from .models import (
    Community,
    CommunityStaff,
    Pledge,
    Post,
    PostClaim,
    ResidenceReport,
    ServicePoint,
    TeamPairing,
)


def _manages_any_community(user) -> bool:
    return (
        get_user_scope(user).can_manage_any
        or CommunityStaff.objects.active().filter(user=user).exists()
    )


class CommunityPermission(ScopedObjectPermission):
    """The scoped contract, where community staff (who hold no organisation role) may write.

    ``open_actions``: any signed-in user who sees the object may try (the service decides);
    ``owner_actions``: only the person the object belongs to (``obj.user``).
    """

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method in permissions.SAFE_METHODS or getattr(view, "detail", False):
            return True
        if view.action in view.open_actions:
            return True
        return _manages_any_community(request.user)

    def has_object_permission(self, request, view, obj):
        if request.method in permissions.SAFE_METHODS or view.action in view.open_actions:
            return True
        if view.action in view.owner_actions:
            return obj.user_id == request.user.pk
        owner_or_manager = getattr(view, "owner_or_manager_actions", ())
        if view.action in owner_or_manager and obj.user_id == request.user.pk:
            return True
        return user_can_manage(request.user, obj)


class CommunityScopedViewSet(ScopedModelViewSet):
    permission_classes = [CommunityPermission]
    open_actions: frozenset[str] = frozenset()
    owner_actions: frozenset[str] = frozenset()
    #: the person the object belongs to, or whoever manages it
    owner_or_manager_actions: frozenset[str] = frozenset()
    selector = None

    def get_queryset(self):
        return type(self).selector(user=self.request.user)

    def call(self, service, **kwargs):
        try:
            return service(**kwargs)
        except DjangoValidationError as error:
            raise as_drf_validation_error(error) from error

    def reply(self, instance, serializer_class=None, *, status_code=status.HTTP_200_OK):
        serializer_class = serializer_class or self.get_serializer_class()
        data = serializer_class(instance, context=self.get_serializer_context()).data
        return Response(data, status=status_code)


class CommunityReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255, label=_("reason"))


class PairingEndSerializer(serializers.Serializer):
    ended_on = serializers.DateField(required=False, label=_("ended on"))


# Communities ---------------------------------------------------------------------------------


class CommunitySerializer(serializers.ModelSerializer):
    organization = ScopedPrimaryKeyField(
        queryset=PartyOrganization.objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = Community
        fields = [
            "id",
            "name",
            "kind",
            "district",
            "street",
            "address",
            "contact_name",
            "contact_phone",
            "organization",
            "is_active",
        ]
        read_only_fields = ["is_active"]


class CommunityDirectorySerializer(serializers.ModelSerializer):
    # The label, not the code: a second enum named "kind" would collide in the OpenAPI schema.
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Community
        fields = ["id", "name", "kind_display", "district", "street"]


class CommunityViewSet(CommunityScopedViewSet):
    """Communities in the user's scope; ``directory`` lists every active one for everybody."""

    queryset = Community.objects.all()
    serializer_class = CommunitySerializer
    filterset_fields = ["kind", "district", "organization"]
    selector = staticmethod(selectors.community_list)

    def get_permissions(self):
        # Only the party organisations above a community add or edit its record.
        return [ScopedObjectPermission()]

    def check_object_permissions(self, request, obj):
        super().check_object_permissions(request, obj)
        if request.method not in permissions.SAFE_METHODS and not (
            Community.objects.editable_by(request.user).filter(pk=obj.pk).exists()
        ):
            self.permission_denied(request)

    def perform_create(self, serializer):
        serializer.instance = self.call(
            services.community_create, actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = self.call(
            services.community_update,
            actor=self.request.user,
            community=serializer.instance,
            **serializer.validated_data,
        )

    @extend_schema(responses=CommunityDirectorySerializer(many=True))
    @action(detail=False, pagination_class=None, filterset_fields=[])
    def directory(self, request):
        communities = selectors.community_directory().only(
            "id", "name", "kind", "district", "street"
        )
        return Response(CommunityDirectorySerializer(communities, many=True).data)


# Service points ------------------------------------------------------------------------------


class ServicePointSerializer(serializers.ModelSerializer):
    community = ScopedPrimaryKeyField(queryset=Community.objects.all())
    service_categories = serializers.PrimaryKeyRelatedField(
        queryset=ServiceCategory.objects.filter(is_active=True), many=True, required=False
    )

    class Meta:
        model = ServicePoint
        fields = [
            "id",
            "community",
            "name",
            "kind",
            "venue_type",
            "address",
            "opening_hours",
            "contact_name",
            "contact_phone",
            "services",
            "service_categories",
            "is_active",
        ]


class ServicePointViewSet(CommunityScopedViewSet):
    queryset = ServicePoint.objects.all()
    serializer_class = ServicePointSerializer
    filterset_fields = ["community", "kind", "venue_type"]
    selector = staticmethod(selectors.service_point_list)

    def perform_create(self, serializer):
        serializer.instance = self.call(
            services.service_point_create, actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("community", None)  # a point does not move to another community
        serializer.instance = self.call(
            services.service_point_update,
            actor=self.request.user,
            service_point=serializer.instance,
            **data,
        )


# Team pairings -------------------------------------------------------------------------------


class TeamPairingSerializer(serializers.ModelSerializer):
    team = ScopedPrimaryKeyField(queryset=Team.objects.all())
    # Any community may be chosen (the directory is public); the service refuses inactive ones.
    community = serializers.PrimaryKeyRelatedField(queryset=Community.objects.all())
    team_name = serializers.CharField(source="team.name", read_only=True)
    community_name = serializers.CharField(source="community.name", read_only=True)

    class Meta:
        model = TeamPairing
        fields = [
            "id",
            "team",
            "team_name",
            "community",
            "community_name",
            "started_on",
            "ended_on",
            "agreement_note",
        ]
        read_only_fields = ["ended_on"]


class TeamPairingViewSet(CommunityScopedViewSet):
    queryset = TeamPairing.objects.all()
    serializer_class = TeamPairingSerializer
    filterset_fields = ["team", "community"]
    http_method_names = ["get", "post", "head", "options"]
    selector = staticmethod(selectors.team_pairing_list)

    def get_permissions(self):
        # Pairings are agreed by party organisations; community staff do not create them.
        return [ScopedObjectPermission()]

    def perform_create(self, serializer):
        serializer.instance = self.call(
            services.team_pairing_create, actor=self.request.user, **serializer.validated_data
        )

    @extend_schema(request=PairingEndSerializer, responses=TeamPairingSerializer)
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        pairing = self.get_object()
        payload = PairingEndSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        pairing = self.call(
            services.team_pairing_end,
            actor=request.user,
            pairing=pairing,
            ended_on=payload.validated_data.get("ended_on"),
        )
        return self.reply(pairing)


# Residence reports ---------------------------------------------------------------------------


class ResidenceReportSerializer(serializers.ModelSerializer):
    community = serializers.PrimaryKeyRelatedField(queryset=Community.objects.directory())
    user_name = serializers.CharField(source="user.real_name", read_only=True)
    community_name = serializers.CharField(source="community.name", read_only=True)
    # Stored encrypted and kept out of lists; the community reads it on its pages.
    home_address = serializers.CharField(write_only=True, label=_("home address"))

    class Meta:
        model = ResidenceReport
        fields = [
            "id",
            "number",
            "user",
            "user_name",
            "community",
            "community_name",
            "home_address",
            "skills_offered",
            "status",
            "submitted_at",
            "reviewed_at",
            "return_reason",
            "ended_on",
        ]
        read_only_fields = [
            "number",
            "user",
            "status",
            "submitted_at",
            "reviewed_at",
            "return_reason",
            "ended_on",
        ]


class ResidenceReportEndSerializer(serializers.Serializer):
    ended_on = serializers.DateField(required=False, label=_("ended on"))


class ResidenceReportViewSet(CommunityScopedViewSet):
    """Reports to residence communities; ``create`` submits one for the signed-in member."""

    queryset = ResidenceReport.objects.all()
    serializer_class = ResidenceReportSerializer
    filterset_fields = ["community", "status"]
    http_method_names = ["get", "post", "head", "options"]
    open_actions = frozenset({"create"})
    owner_actions = frozenset({"withdraw"})
    owner_or_manager_actions = frozenset({"end"})
    selector = staticmethod(selectors.residence_report_list)

    def perform_create(self, serializer):
        serializer.instance = self.call(
            services.residence_report_submit, user=self.request.user, **serializer.validated_data
        )

    @extend_schema(request=None, responses=ResidenceReportSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        report = self.call(
            services.residence_report_confirm, actor=request.user, report=self.get_object()
        )
        return self.reply(report)

    @extend_schema(request=CommunityReasonSerializer, responses=ResidenceReportSerializer)
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_report(self, request, pk=None):
        report = self.get_object()
        payload = CommunityReasonSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        report = self.call(
            services.residence_report_return,
            actor=request.user,
            report=report,
            reason=payload.validated_data["reason"],
        )
        return self.reply(report)

    @extend_schema(request=None, responses=ResidenceReportSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        report = self.call(
            services.residence_report_withdraw, user=request.user, report=self.get_object()
        )
        return self.reply(report)

    @extend_schema(request=ResidenceReportEndSerializer, responses=ResidenceReportSerializer)
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        """The member moved away: the member or the community ends a confirmed report."""
        report = self.get_object()
        payload = ResidenceReportEndSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        report = self.call(
            services.residence_report_end,
            actor=request.user,
            report=report,
            ended_on=payload.validated_data.get("ended_on"),
        )
        return self.reply(report)


# Posts and claims ----------------------------------------------------------------------------


class PostSerializer(serializers.ModelSerializer):
    community = ScopedPrimaryKeyField(queryset=Community.objects.all())
    service_category = serializers.PrimaryKeyRelatedField(
        queryset=ServiceCategory.objects.filter(is_active=True), allow_null=True, required=False
    )
    taken = serializers.IntegerField(read_only=True)

    class Meta:
        model = Post
        fields = [
            "id",
            "community",
            "title",
            "description",
            "service_category",
            "slots",
            "taken",
            "starts_on",
            "ends_on",
            "is_published",
        ]
        read_only_fields = ["is_published"]


class PostClaimSerializer(serializers.ModelSerializer):
    post_title = serializers.CharField(source="post.title", read_only=True)
    user_name = serializers.CharField(source="user.real_name", read_only=True)

    class Meta:
        model = PostClaim
        fields = [
            "id",
            "post",
            "post_title",
            "user",
            "user_name",
            "status",
            "note",
            "created_at",
            "reviewed_at",
            "reject_reason",
        ]
        read_only_fields = fields


class ClaimNoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=255, required=False, allow_blank=True)


class PostViewSet(CommunityScopedViewSet):
    queryset = Post.objects.all()
    serializer_class = PostSerializer
    filterset_fields = ["community", "is_published", "service_category"]
    open_actions = frozenset({"claim"})
    selector = staticmethod(selectors.post_list)

    def _reload(self, post):
        return selectors.post_list(user=self.request.user).get(pk=post.pk)

    def perform_create(self, serializer):
        post = self.call(
            services.post_publish, actor=self.request.user, **serializer.validated_data
        )
        serializer.instance = self._reload(post)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("community", None)
        post = self.call(
            services.post_update, actor=self.request.user, post=serializer.instance, **data
        )
        serializer.instance = self._reload(post)

    @extend_schema(request=ClaimNoteSerializer, responses={201: PostClaimSerializer})
    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        post = self.get_object()
        payload = ClaimNoteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        claim = self.call(
            services.post_claim,
            user=request.user,
            post=post,
            note=payload.validated_data.get("note", ""),
        )
        return self.reply(claim, PostClaimSerializer, status_code=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=PostSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        post = self.call(services.post_close, actor=request.user, post=self.get_object())
        return self.reply(self._reload(post))


class PostClaimViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Claims are made on ``posts/{id}/claim/``; here the community decides and members withdraw."""

    queryset = PostClaim.objects.all()
    serializer_class = PostClaimSerializer
    permission_classes = [CommunityPermission]
    filterset_fields = ["post", "status"]
    open_actions = frozenset()
    owner_actions = frozenset({"withdraw"})
    get_queryset = CommunityScopedViewSet.get_queryset
    call = CommunityScopedViewSet.call
    reply = CommunityScopedViewSet.reply
    selector = staticmethod(selectors.post_claim_list)

    @extend_schema(request=None, responses=PostClaimSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        claim = self.call(services.post_claim_approve, actor=request.user, claim=self.get_object())
        return self.reply(claim)

    @extend_schema(request=CommunityReasonSerializer, responses=PostClaimSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        claim = self.get_object()
        payload = CommunityReasonSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        claim = self.call(
            services.post_claim_reject,
            actor=request.user,
            claim=claim,
            reason=payload.validated_data["reason"],
        )
        return self.reply(claim)

    @extend_schema(request=None, responses=PostClaimSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        claim = self.call(services.post_claim_withdraw, user=request.user, claim=self.get_object())
        return self.reply(claim)


# Pledges -------------------------------------------------------------------------------------


class PledgeSerializer(serializers.ModelSerializer):
    community = serializers.PrimaryKeyRelatedField(queryset=Community.objects.directory())
    user_name = serializers.CharField(source="user.real_name", read_only=True)

    class Meta:
        model = Pledge
        fields = [
            "id",
            "user",
            "user_name",
            "community",
            "year",
            "content",
            "target",
            "status",
            "evidence",
            "reported_kept_at",
            "confirmed_at",
            "review_note",
        ]
        read_only_fields = [
            "user",
            "status",
            "evidence",
            "reported_kept_at",
            "confirmed_at",
            "review_note",
        ]
        # The one-pledge-a-year rule is the service's, with its own message.
        validators = []


class PledgeEvidenceSerializer(serializers.Serializer):
    evidence = serializers.CharField(label=_("evidence"))


class PledgeViewSet(CommunityScopedViewSet):
    """Pledges; ``create`` makes one for the signed-in member."""

    queryset = Pledge.objects.all()
    serializer_class = PledgeSerializer
    filterset_fields = ["community", "year", "status"]
    http_method_names = ["get", "post", "head", "options"]
    open_actions = frozenset({"create"})
    owner_actions = frozenset({"report_kept"})
    selector = staticmethod(selectors.pledge_list)

    def perform_create(self, serializer):
        serializer.instance = self.call(
            services.pledge_make, user=self.request.user, **serializer.validated_data
        )

    @extend_schema(request=PledgeEvidenceSerializer, responses=PledgeSerializer)
    @action(detail=True, methods=["post"], url_path="report-kept", url_name="report-kept")
    def report_kept(self, request, pk=None):
        pledge = self.get_object()
        payload = PledgeEvidenceSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        pledge = self.call(
            services.pledge_report_kept,
            user=request.user,
            pledge=pledge,
            evidence=payload.validated_data["evidence"],
        )
        return self.reply(pledge)

    @extend_schema(request=None, responses=PledgeSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        pledge = self.call(services.pledge_confirm, actor=request.user, pledge=self.get_object())
        return self.reply(pledge)

    @extend_schema(request=CommunityReasonSerializer, responses=PledgeSerializer)
    @action(detail=True, methods=["post"], url_path="not-kept", url_name="not-kept")
    def not_kept(self, request, pk=None):
        pledge = self.get_object()
        payload = CommunityReasonSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        pledge = self.call(
            services.pledge_mark_not_kept,
            actor=request.user,
            pledge=pledge,
            reason=payload.validated_data["reason"],
        )
        return self.reply(pledge)


ROUTES: list[tuple[str, type, str]] = [
    ("communities", CommunityViewSet, "community"),
    ("service-points", ServicePointViewSet, "service-point"),
    ("team-pairings", TeamPairingViewSet, "team-pairing"),
    ("residence-reports", ResidenceReportViewSet, "residence-report"),
    ("posts", PostViewSet, "post"),
    ("post-claims", PostClaimViewSet, "post-claim"),
    ("pledges", PledgeViewSet, "pledge"),
]
