from django.urls import include, path

from . import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("profile/", views.profile, name="profile"),
    path("volunteer/", include("apps.portal.urls_volunteers")),
    path("teams/", include("apps.portal.urls_teams")),
    path("communities/", include("apps.portal.urls_communities")),
    path("care/", include("apps.portal.urls_care")),
    path("requests/", include("apps.portal.urls_requests")),
    path("inbox/", include("apps.portal.urls_inbox")),
    path("activities/", include("apps.portal.urls_activities")),
    path("records/", include("apps.portal.urls_records")),
    path("certificates/", include("apps.portal.urls_certificates")),
    path("points/", include("apps.portal.urls_points")),
    path("awards/", include("apps.portal.urls_awards")),
    # Residents without an account: submit, track and rate requests; the public wall.
    path("r/", include("apps.portal.urls_residents")),
]
