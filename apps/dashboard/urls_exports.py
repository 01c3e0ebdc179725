"""Exports, under /dashboard/exports/ in the "dashboard" namespace."""

from django.urls import path

from . import export_views

urlpatterns = [
    path("", export_views.export_list, name="export-list"),
    path("new/", export_views.export_create, name="export-create"),
    path("<int:pk>/", export_views.export_detail, name="export-detail"),
    path("<int:pk>/progress/", export_views.export_progress, name="export-progress"),
    path("<int:pk>/download/", export_views.export_download, name="export-download"),
]
