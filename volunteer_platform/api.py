"""The REST API router: every app's viewsets, under /api/v1/."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from apps.accounts.api import ROUTES as ACCOUNT_ROUTES
from apps.accounts.api import MeView
from apps.activities.api import ROUTES as ACTIVITY_ROUTES
from apps.awards.api import ROUTES as AWARD_ROUTES
from apps.awards.api_appraisal import ROUTES as APPRAISAL_ROUTES
from apps.awards.api_awards import ROUTES as AWARD_WORKFLOW_ROUTES
from apps.care.api import ROUTES as CARE_ROUTES
from apps.communities.api import ROUTES as COMMUNITY_ROUTES
from apps.core.api_exports import ROUTES as EXPORT_ROUTES
from apps.organizations.api import (
    MembershipViewSet,
    OrganizationRoleViewSet,
    PartyOrganizationViewSet,
)
from apps.points.api import ROUTES as POINTS_ROUTES
from apps.service_records.api import ROUTES as RECORD_ROUTES
from apps.service_records.api_certificates import ROUTES as CERTIFICATE_ROUTES
from apps.teams.api import ROUTES as TEAM_ROUTES

router = DefaultRouter()
router.register("organizations", PartyOrganizationViewSet, basename="organization")
router.register("memberships", MembershipViewSet, basename="membership")
router.register("organization-roles", OrganizationRoleViewSet, basename="organization-role")
ALL_ROUTES = (
    *ACCOUNT_ROUTES,
    *TEAM_ROUTES,
    *COMMUNITY_ROUTES,
    *CARE_ROUTES,
    *ACTIVITY_ROUTES,
    *RECORD_ROUTES,
    *CERTIFICATE_ROUTES,
    *POINTS_ROUTES,
    *AWARD_ROUTES,
    *AWARD_WORKFLOW_ROUTES,
    *APPRAISAL_ROUTES,
    *EXPORT_ROUTES,
)
for prefix, viewset, basename in ALL_ROUTES:
    router.register(prefix, viewset, basename=basename)

urlpatterns = [
    path("me/", MeView.as_view(), name="me"),
    *router.urls,
]
