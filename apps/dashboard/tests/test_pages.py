from django.core.management import call_command

from apps.accounts.models import User
from apps.communities.demo import COMMUNITIES
from apps.organizations.demo import LOGINS
from apps.organizations.models import Membership, OrganizationRole, PartyOrganization
from conftest import zh


def test_organisation_list_search_and_htmx_fragment(client_as, tree, city_admin):
    client = client_as(city_admin)
    page = client.get("/dashboard/", {"q": "桂园"})
    assert [org.name for org in page.context["page"]] == ["桂园社区党支部"]
    assert "<html" in page.content.decode()
    fragment = client.get("/dashboard/", {"q": "桂园"}, headers={"HX-Request": "true"})
    body = fragment.content.decode()
    assert "<html" not in body and "桂园社区党支部" in body


def test_edit_form_refuses_bad_input_and_keeps_the_record(client_as, tree, branch_secretary):
    response = client_as(branch_secretary).post(
        f"/dashboard/organizations/{tree.branch.pk}/edit/",
        {"name": "", "code": "T-TX", "kind": "branch"},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["code"] == [zh("Another organisation already uses this code.")]
    assert form.errors["name"]
    tree.branch.refresh_from_db()
    assert (tree.branch.name, tree.branch.code) == ("桂园社区党支部", "T-GY")


def test_detail_lists_members_and_children(client_as, tree, inspector, volunteer):
    response = client_as(inspector).get(f"/dashboard/organizations/{tree.street.pk}/")
    assert [c.name for c in response.context["children"]] == ["桂园社区党支部", "湖滨社区党支部"]
    branch = client_as(inspector).get(f"/dashboard/organizations/{tree.branch.pk}/")
    assert volunteer.real_name in branch.content.decode()
    assert branch.context["can_change"] is False


def test_language_switch_to_english(client_as, volunteer):
    client = client_as(volunteer)
    assert zh("My account") in client.get("/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "My account" in client.get("/").content.decode()


def test_seed_demo_is_idempotent_and_prints_logins(db, capsys):
    call_command("seed_demo", members=30)
    first = capsys.readouterr().out
    counts = (
        PartyOrganization.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
        OrganizationRole.objects.count(),
    )
    # 30 members, the organisation logins, each community's staff and the team leader
    assert counts[0] >= 20 and counts[1] == 30 + len(LOGINS) + len(COMMUNITIES) + 1
    for username in ("city_admin", "branch_secretary", "volunteer", "inspector"):
        assert username in first
    call_command("seed_demo", members=30)
    assert (
        PartyOrganization.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
        OrganizationRole.objects.count(),
    ) == counts
    demo = User.objects.get(username="volunteer")
    assert demo.check_password("Demo@2026")
    assert len(demo.id_number) == 18
