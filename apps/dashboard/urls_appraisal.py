"""Democratic appraisal, under /dashboard/appraisal/ in the "dashboard" namespace."""

from django.urls import path

from . import appraisal_views

urlpatterns = [
    path("", appraisal_views.appraisal_index, name="appraisal-index"),
    path("<int:year>/<int:org_pk>/", appraisal_views.appraisal_detail, name="appraisal"),
    path(
        "<int:year>/<int:org_pk>/save/", appraisal_views.appraisal_save_view, name="appraisal-save"
    ),
]
