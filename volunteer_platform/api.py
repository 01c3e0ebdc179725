"""The REST API router: every app's viewsets, under /api/v1/."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from apps.accounts.api import ROUTES as ACCOUNT_ROUTES
from apps.accounts.api import MeView
from apps.care.api import ROUTES as CARE_ROUTES
from apps.communities.api import ROUTES as COMMUNITY_ROUTES
from apps.organizations.api import (
    MembershipViewSet,
    OrganizationRoleViewSet,
    PartyOrganizationViewSet,
)
from apps.teams.api import ROUTES as TEAM_ROUTES

router = DefaultRouter()
router.register("organizations", PartyOrganizationViewSet, basename="organization")
router.register("memberships", MembershipViewSet, basename="membership")
router.register("organization-roles", OrganizationRoleViewSet, basename="organization-role")
for prefix, viewset, basename in (*ACCOUNT_ROUTES, *TEAM_ROUTES, *COMMUNITY_ROUTES, *CARE_ROUTES):
    router.register(prefix, viewset, basename=basename)

urlpatterns = [
    path("me/", MeView.as_view(), name="me"),
    *router.urls,
]
