from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import User


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


#: (prefix, viewset, basename) registered by volunteer_platform/api.py
ROUTES: list[tuple[str, type, str]] = []
