from django.urls import path

from . import volunteer_views as views

urlpatterns = [
    path("register/", views.register, name="volunteer-register"),
    path("profile/", views.profile, name="volunteer-profile"),
    path("profile/edit/", views.profile_edit, name="volunteer-profile-edit"),
    path("profile/change/", views.change_request, name="volunteer-change-request"),
    path("profile/withdraw/", views.withdraw, name="volunteer-withdraw"),
    path("training/", views.training, name="volunteer-training"),
    path("review/", views.review_list, name="volunteer-review-list"),
    path("review/<int:pk>/", views.review_detail, name="volunteer-review-detail"),
]
