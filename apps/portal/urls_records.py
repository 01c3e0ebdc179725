from django.urls import path

from . import record_views as views

urlpatterns = [
    path("", views.record_list, name="record-list"),
    path("new/", views.record_new, name="record-new"),
    path("<int:pk>/", views.record_detail, name="record-detail"),
    path("<int:pk>/edit/", views.record_edit, name="record-edit"),
    path("<int:pk>/approve/", views.record_approve, name="record-approve"),
    path("<int:pk>/reject/", views.record_reject, name="record-reject"),
    path("<int:pk>/reopen/", views.record_reopen, name="record-reopen"),
    path("review/", views.review_queue, name="review-queue"),
    path("team/<int:team_pk>/", views.team_records, name="team-records"),
    path("team/<int:team_pk>/enter/", views.team_record_entry, name="team-record-entry"),
    # For the people served, no account needed.
    path("rate/<str:token>/", views.record_rate, name="record-rate"),
    path("rate-activity/<str:token>/", views.activity_rate, name="activity-rate"),
]
