from django.urls import path

from . import points_views as views

urlpatterns = [
    path("", views.my_points, name="my-points"),
]
