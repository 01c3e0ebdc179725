from django.urls import path

from . import request_views as views

urlpatterns = [
    path("intake/", views.request_intake, name="request-intake"),
    path("queue/", views.request_queue, name="request-queue"),
    path("team/", views.team_requests, name="team-requests"),
    path("open/", views.requests_open, name="requests-open"),
    path("mine/", views.my_requests, name="my-requests"),
    path("<int:pk>/", views.request_detail, name="request-detail"),
    path("<int:pk>/act/", views.request_action, name="request-action"),
    path("<int:pk>/team/", views.request_team_action, name="request-team-action"),
    path("<int:pk>/claim/", views.request_claim, name="request-claim"),
    path("<int:pk>/complete/", views.request_complete, name="request-complete"),
]
