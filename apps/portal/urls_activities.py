from django.urls import path

from . import activity_views as views

urlpatterns = [
    path("", views.activity_list, name="activity-list"),
    path("mine/", views.my_activities, name="my-activities"),
    path("new/", views.activity_new, name="activity-new"),
    path("<int:pk>/", views.activity_detail, name="activity-detail"),
    path("<int:pk>/signup/", views.activity_signup, name="activity-signup"),
    path("<int:pk>/edit/", views.activity_edit, name="activity-edit"),
    path("<int:pk>/publish/", views.activity_publish, name="activity-publish"),
    path("<int:pk>/cancel/", views.activity_cancel, name="activity-cancel"),
    path("<int:pk>/repeat/", views.activity_repeat, name="activity-repeat"),
    path("<int:pk>/manage/", views.activity_manage, name="activity-manage"),
    path("<int:pk>/qr/<str:direction>/", views.activity_qr, name="activity-qr"),
    path(
        "<int:pk>/qr/<str:direction>/code/",
        views.activity_qr_fragment,
        name="activity-qr-fragment",
    ),
    path("signups/<int:pk>/cancel/", views.activity_signup_cancel, name="activity-signup-cancel"),
    path("signups/<int:pk>/attendance/", views.activity_attendance, name="activity-attendance"),
    path("checkin/<str:token>/", views.activity_checkin, name="activity-checkin"),
]
