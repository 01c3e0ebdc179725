"""The awards workflow, under /dashboard/awards/ in the "dashboard" namespace."""

from django.urls import path

from . import award_views

urlpatterns = [
    path("", award_views.award_index, name="award-index"),
    path("<int:year>/<int:category_pk>/", award_views.award_category, name="award-category"),
    path(
        "<int:year>/<int:category_pk>/nominate/",
        award_views.nomination_create,
        name="nomination-create",
    ),
    path(
        "<int:year>/<int:category_pk>/publicity/",
        award_views.publicity_start,
        name="publicity-start",
    ),
    path("nominations/<int:pk>/", award_views.nomination_detail, name="nomination-detail"),
    path(
        "nominations/<int:pk>/withdraw/",
        award_views.nomination_withdraw,
        name="nomination-withdraw",
    ),
    path("nominations/<int:pk>/decide/", award_views.nomination_decide, name="nomination-decide"),
    path("objections/<int:pk>/resolve/", award_views.objection_resolve, name="objection-resolve"),
]
