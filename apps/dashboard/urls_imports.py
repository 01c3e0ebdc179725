"""Imports, under /dashboard/imports/ in the "dashboard" namespace."""

from django.urls import path

from . import import_views

urlpatterns = [
    path("", import_views.import_list, name="import-list"),
    path("new/", import_views.import_new, name="import-new"),
    path("templates/<slug:kind>/", import_views.import_template_download, name="import-template"),
    path("<int:pk>/", import_views.import_detail, name="import-detail"),
    path("<int:pk>/progress/", import_views.import_progress, name="import-progress"),
]
