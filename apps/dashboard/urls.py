from django.urls import include, path

from . import coverage_views, views

app_name = "dashboard"
urlpatterns = [
    path("imports/", include("apps.dashboard.urls_imports")),
    path("rollup/", include("apps.dashboard.urls_rollup")),
    path("awards/", include("apps.dashboard.urls_awards")),
    path("appraisal/", include("apps.dashboard.urls_appraisal")),
    path("exports/", include("apps.dashboard.urls_exports")),
    path("", views.organization_list_view, name="index"),
    path("organizations/<int:pk>/", views.organization_detail, name="organization-detail"),
    path("organizations/<int:pk>/edit/", views.organization_edit, name="organization-edit"),
    path("coverage/", coverage_views.coverage, name="coverage"),
    path(
        "coverage/<int:pk>/export/",
        coverage_views.coverage_export,
        name="coverage-export",
    ),
    path(
        "coverage/<int:pk>/<slug:indicator>/",
        coverage_views.coverage_drilldown_view,
        name="coverage-drilldown",
    ),
]
