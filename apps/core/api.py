from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import permissions, serializers, viewsets
from rest_framework.fields import get_error_detail

from .scoping import get_user_scope, user_can_manage


class ScopedObjectPermission(permissions.BasePermission):
    """Reading needs the object in scope (else 404); writing needs a managing role (else 403)."""

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method in permissions.SAFE_METHODS or getattr(view, "detail", False):
            # Object-level check follows, after the scoped lookup has answered 404 if need be.
            return True
        return get_user_scope(request.user).can_manage_any

    def has_object_permission(self, request, view, obj):
        if request.method in permissions.SAFE_METHODS:
            return True
        return user_can_manage(request.user, obj)


def as_drf_validation_error(error: DjangoValidationError) -> serializers.ValidationError:
    return serializers.ValidationError(get_error_detail(error))


class ScopedModelViewSet(viewsets.ModelViewSet):
    """A viewset whose every query starts from ``visible_to(request.user)``."""

    permission_classes = [ScopedObjectPermission]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return self.queryset.visible_to(self.request.user)
