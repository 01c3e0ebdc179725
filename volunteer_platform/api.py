"""The REST API router: every app's viewsets, under /api/v1/."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from apps.accounts.api import MeView
from apps.organizations.api import (
    MembershipViewSet,
    OrganizationRoleViewSet,
    PartyOrganizationViewSet,
)

router = DefaultRouter()
router.register("organizations", PartyOrganizationViewSet, basename="organization")
router.register("memberships", MembershipViewSet, basename="membership")
router.register("organization-roles", OrganizationRoleViewSet, basename="organization-role")

urlpatterns = [
    path("me/", MeView.as_view(), name="me"),
    *router.urls,
]
