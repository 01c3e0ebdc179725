"""The yearly roll-up, under /dashboard/rollup/ in the "dashboard" namespace."""

from django.urls import path

from . import rollup_views

urlpatterns = [
    path("", rollup_views.rollup_index, name="rollup-index"),
    path("start/", rollup_views.rollup_start_view, name="rollup-start"),
    path("<int:year>/", rollup_views.rollup_detail, name="rollup-detail"),
    path("<int:year>/progress/", rollup_views.rollup_progress, name="rollup-progress"),
]
