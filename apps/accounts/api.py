from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import ScopedObjectPermission, as_drf_validation_error

from . import selectors, services
from .models import TrainingRecord, User, VolunteerProfile


class MeSerializer(serializers.ModelSerializer):
    id_number_masked = serializers.CharField(read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "real_name",
            "phone",
            "email",
            "gender",
            "ethnicity",
            "political_status",
            "id_number_masked",
        ]
        read_only_fields = fields


class MeView(APIView):
    """The signed-in user's own account (ID number masked)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(request.user).data)


class VolunteerProfileSerializer(serializers.ModelSerializer):
    real_name = serializers.CharField(source="user.real_name", read_only=True)
    gender = serializers.CharField(source="user.gender", read_only=True)
    id_number_masked = serializers.CharField(source="user.id_number_masked", read_only=True)
    phone = serializers.CharField(source="user.phone", read_only=True)
    service_categories = serializers.SerializerMethodField()

    class Meta:
        model = VolunteerProfile
        fields = [
            "id",
            "user",
            "volunteer_number",
            "status",
            "real_name",
            "gender",
            "id_number_masked",
            "phone",
            "birth_date",
            "residence_area",
            "residence_community",
            "skills",
            "service_categories",
            "available_times",
            "submitted_at",
            "reviewed_at",
            "review_note",
        ]
        read_only_fields = fields

    def get_service_categories(self, obj) -> list[int]:
        return [category.pk for category in obj.service_categories.all()]


class VolunteerReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255, label=_("reason"))


def _call(service, **kwargs):
    try:
        return service(**kwargs)
    except DjangoValidationError as error:
        raise as_drf_validation_error(error) from error


class VolunteerProfileViewSet(viewsets.ReadOnlyModelViewSet):
    """Volunteer profiles in scope; ``?mine=1`` or ``me/`` for one's own."""

    permission_classes = [ScopedObjectPermission]
    serializer_class = VolunteerProfileSerializer
    filterset_fields = ["status"]

    def get_queryset(self):
        return selectors.volunteer_profile_list(
            user=self.request.user, mine=self.request.query_params.get("mine") == "1"
        ).order_by("-submitted_at", "-pk")

    def _respond(self, profile):
        profile = selectors.volunteer_profile_list(user=self.request.user).get(pk=profile.pk)
        return Response(self.get_serializer(profile).data)

    @extend_schema(responses=VolunteerProfileSerializer)
    @action(detail=False, methods=["get"])
    def me(self, request):
        profile = selectors.volunteer_profile_of(user=request.user)
        if profile is None:
            raise NotFound(_("You are not registered as a volunteer."))
        return Response(self.get_serializer(profile).data)

    @extend_schema(request=None, responses=VolunteerProfileSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        profile = self.get_object()
        _call(services.volunteer_approve, actor=request.user, profile=profile)
        return self._respond(profile)

    @extend_schema(request=VolunteerReasonSerializer, responses=VolunteerProfileSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        profile = self.get_object()
        payload = VolunteerReasonSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        _call(
            services.volunteer_reject,
            actor=request.user,
            profile=profile,
            reason=payload.validated_data["reason"],
        )
        return self._respond(profile)


class VolunteerUserField(serializers.PrimaryKeyRelatedField):
    """A volunteer whose profile the requesting user can see."""

    def get_queryset(self):
        visible = VolunteerProfile.objects.visible_to(self.context["request"].user)
        return User.objects.filter(pk__in=visible.values("user_id"))


class TrainingRecordSerializer(serializers.ModelSerializer):
    user = VolunteerUserField()
    user_name = serializers.CharField(source="user.real_name", read_only=True)

    class Meta:
        model = TrainingRecord
        fields = [
            "id",
            "user",
            "user_name",
            "name",
            "content",
            "hours",
            "organizer",
            "held_on",
            "recorded_by",
            "created_at",
        ]
        read_only_fields = ["recorded_by", "created_at"]


class TrainingRecordPermission(ScopedObjectPermission):
    # Community staff record training too, without an organisation role: whether the actor
    # manages the volunteer is decided per record in perform_create.
    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated)


class TrainingRecordViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Training records (MCA Order 67 Art. 8): one's own and those of volunteers in scope."""

    permission_classes = [TrainingRecordPermission]
    serializer_class = TrainingRecordSerializer
    filterset_fields = ["user"]

    def get_queryset(self):
        return selectors.training_record_list(
            user=self.request.user, mine=self.request.query_params.get("mine") == "1"
        )

    def perform_create(self, serializer):
        volunteer = serializer.validated_data["user"]
        if (
            not VolunteerProfile.objects.manageable_by(self.request.user)
            .filter(user=volunteer)
            .exists()
        ):
            raise PermissionDenied(
                _("You can only record training for volunteers you are responsible for.")
            )
        serializer.instance = _call(
            services.training_record_add, actor=self.request.user, **serializer.validated_data
        )


#: (prefix, viewset, basename) registered by volunteer_platform/api.py
ROUTES: list[tuple[str, type, str]] = [
    ("volunteer-profiles", VolunteerProfileViewSet, "volunteer-profile"),
    ("training-records", TrainingRecordViewSet, "training-record"),
]
