from django.urls import path

from . import community_views as views

urlpatterns = [
    path("report/", views.residence_report, name="residence-report"),
    path(
        "report/<int:pk>/receipt/",
        views.residence_report_receipt,
        name="residence-report-receipt",
    ),
    path("mine/", views.my_community, name="my-community"),
    path("posts/<int:pk>/claim/", views.post_claim, name="post-claim"),
    path("pledge/", views.pledge_make, name="pledge-make"),
    path("pledges/<int:pk>/kept/", views.pledge_report_kept, name="pledge-report-kept"),
    path("manage/", views.community_list, name="community-list"),
    path("<int:pk>/manage/", views.community_manage, name="community-manage"),
]
