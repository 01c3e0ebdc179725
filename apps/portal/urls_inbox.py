from django.urls import path

from . import inbox_views as views

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:pk>/read/", views.inbox_read, name="inbox-read"),
    path("read-all/", views.inbox_read_all, name="inbox-read-all"),
    path("badge/", views.inbox_badge, name="inbox-badge"),
    path("preferences/", views.notification_preferences, name="notification-preferences"),
]
