from django.urls import path

from . import certificate_views as views

urlpatterns = [
    path("", views.certificate_list, name="certificate-list"),
    path("request/", views.certificate_request, name="certificate-request"),
    path("<int:pk>/pdf/", views.certificate_pdf, name="certificate-pdf"),
    path("verify/<str:token>/", views.certificate_verify, name="certificate-verify"),
]
