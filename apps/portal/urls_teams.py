from django.urls import path

from . import team_views as views

urlpatterns = [
    path("", views.team_list, name="team-list"),
    path("mine/", views.my_teams, name="my-teams"),
    path("<int:pk>/", views.team_detail, name="team-detail"),
    path("<int:pk>/apply/", views.team_apply, name="team-apply"),
    path("<int:pk>/manage/", views.team_manage, name="team-manage"),
    path("<int:pk>/manage/invite/", views.team_invite, name="team-invite"),
    path("<int:pk>/manage/families/", views.family_group_create, name="team-family-create"),
    path("families/<int:pk>/add/", views.family_member_add, name="team-family-member-add"),
    path("memberships/<int:pk>/approve/", views.membership_approve, name="team-membership-approve"),
    path("memberships/<int:pk>/decline/", views.membership_decline, name="team-membership-decline"),
    path("memberships/<int:pk>/remove/", views.membership_remove, name="team-membership-remove"),
    path("memberships/<int:pk>/deputy/", views.deputy_appoint, name="team-deputy-appoint"),
    path("memberships/<int:pk>/member/", views.deputy_revoke, name="team-deputy-revoke"),
    path("memberships/<int:pk>/accept/", views.invitation_accept, name="team-invitation-accept"),
    path("memberships/<int:pk>/refuse/", views.invitation_decline, name="team-invitation-decline"),
    path("memberships/<int:pk>/leave/", views.membership_leave, name="team-leave"),
]
