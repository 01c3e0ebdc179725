from django.urls import path

from . import views

app_name = "dashboard"
urlpatterns = [
    path("", views.organization_list_view, name="index"),
    path("organizations/<int:pk>/", views.organization_detail, name="organization-detail"),
    path("organizations/<int:pk>/edit/", views.organization_edit, name="organization-edit"),
]
