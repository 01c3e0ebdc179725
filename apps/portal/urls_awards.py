"""My awards and the public publicity page, under /awards/ in the "portal" namespace."""

from django.urls import path

from . import award_views

urlpatterns = [
    path("", award_views.award_list, name="award-list"),
    path("publicity/", award_views.publicity, name="publicity"),
    path(
        "publicity/<int:pk>/objection/",
        award_views.objection_create,
        name="objection-create",
    ),
]
