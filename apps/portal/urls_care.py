from django.urls import path

from . import care_views as views

urlpatterns = [
    path("mine/", views.my_household, name="my-household"),
    path("pairings/<int:pk>/visit/", views.visit_add, name="visit-add"),
    path("households/", views.care_recipient_list, name="care-recipient-list"),
    path("households/new/", views.care_recipient_create, name="care-recipient-create"),
    path("households/export/", views.care_recipient_export, name="care-recipient-export"),
    path("households/<int:pk>/", views.care_recipient_detail, name="care-recipient-detail"),
    path("households/<int:pk>/edit/", views.care_recipient_edit, name="care-recipient-edit"),
    path("households/<int:pk>/verify/", views.care_recipient_verify, name="care-recipient-verify"),
    path(
        "households/<int:pk>/deactivate/",
        views.care_recipient_deactivate,
        name="care-recipient-deactivate",
    ),
    path("households/<int:pk>/pair/", views.care_pairing_create, name="care-pairing-create"),
    path("pairings/<int:pk>/end/", views.care_pairing_end, name="care-pairing-end"),
    path("pairings/<int:pk>/handover/", views.care_pairing_handover, name="care-pairing-handover"),
    path("overdue/", views.care_overdue, name="care-overdue"),
]
