from django.urls import path

from . import resident_views as views

urlpatterns = [
    path("<int:community_pk>/", views.resident_submit, name="resident-submit"),
    path("<int:community_pk>/qr.svg", views.community_qr, name="community-qr"),
    path("submitted/<str:token>/", views.resident_submitted, name="resident-submitted"),
    path("track/", views.resident_track, name="resident-track"),
    path("rate/<str:token>/", views.resident_rate, name="resident-rate"),
    path("wishes/", views.wishes_wall, name="wishes-wall"),
]
