"""Whole journeys in a real browser, each person in their own browser context.

1. A citizen signs up, registers as a volunteer, community staff approve, the citizen applies
   to a team and the team leader approves: the citizen is an active team member.
2. An in-service party member reports to their residence community, gets a receipt number, and
   the community's staff confirm the report.
"""

import re

import pytest
from playwright.sync_api import expect

from apps.accounts.models import User, VolunteerProfile
from apps.accounts.validators import id_number_check_char
from apps.communities.models import ResidenceReport, ResidenceReportStatus
from apps.teams.models import TeamMembership, TeamMembershipStatus

from .conftest import BROWSER_LOCALE

pytestmark = pytest.mark.browser

PASSWORD = "secret-pass-123"  # UserFactory's password
CITIZEN_PASSWORD = "Str0ng-pass-2026"


def _page(browser):
    context = browser.new_context(locale=BROWSER_LOCALE, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(8_000)
    return page


def _sign_in(page, site, login, password):
    page.goto(site + "/accounts/login/")
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill(password)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(site + "/")


def test_citizen_registers_is_approved_and_joins_a_team(
    site, chromium, team, team_leader, community, community_staff
):
    citizen = _page(chromium)
    # Sign up on the portal.
    citizen.goto(site + "/accounts/signup/")
    citizen.locator("input[name=real_name]").fill("孙丽")
    citizen.locator("input[name=phone]").fill("13912345678")
    citizen.locator("input[name=username]").fill("sunli")
    citizen.locator("input[name=password1]").fill(CITIZEN_PASSWORD)
    citizen.locator("input[name=password2]").fill(CITIZEN_PASSWORD)
    citizen.locator("main form button[type=submit]").click()
    expect(citizen).to_have_url(site + "/")

    # Register as a volunteer (MCA Order 67 Art. 5 fields) from the home page.
    citizen.locator("main a[href$='/volunteer/register/']").click()
    first17 = "42010619900501002"
    citizen.locator("select[name=gender]").select_option("female")
    citizen.locator("input[name=birth_date]").fill("1990-05-01")
    citizen.locator("input[name=id_number]").fill(first17 + id_number_check_char(first17))
    citizen.locator("input[name=residence_area]").fill("东湖区东湖街道")
    citizen.locator("select[name=residence_community]").select_option(str(community.pk))
    citizen.locator("input[name=consent]").check()
    citizen.locator("main form button[type=submit]").click()
    expect(citizen).to_have_url(re.compile(r"/volunteer/profile/$"))
    profile = VolunteerProfile.objects.get(user__username="sunli")
    expect(citizen.locator("main")).to_contain_text(profile.volunteer_number)
    assert profile.status == "pending"

    # The community's staff approve the registration from their review queue.
    staff = _page(chromium)
    _sign_in(staff, site, community_staff.phone, PASSWORD)
    staff.goto(site + "/volunteer/review/")
    staff.locator(f"main a[href$='/volunteer/review/{profile.pk}/']").first.click()
    staff.locator("button[name=action][value=approve]").click()
    expect(staff.locator(".alert-success")).to_be_visible()
    profile.refresh_from_db()
    assert profile.status == "active"

    # The new volunteer applies to the team from its page.
    citizen.goto(site + f"/teams/{team.pk}/")
    citizen.locator(f"form[action$='/teams/{team.pk}/apply/'] button[type=submit]").click()
    expect(citizen.locator(".alert-success")).to_be_visible()

    # The team leader approves the application.
    leader = _page(chromium)
    _sign_in(leader, site, team_leader.phone, PASSWORD)
    leader.goto(site + f"/teams/{team.pk}/manage/")
    leader.locator("form[action*='/approve/'] button[type=submit]").first.click()
    expect(leader.locator(".alert-success")).to_be_visible()

    citizen.goto(site + "/teams/mine/")
    expect(citizen.locator("main")).to_contain_text(team.name)
    membership = TeamMembership.objects.get(team=team, user=User.objects.get(username="sunli"))
    assert membership.status == TeamMembershipStatus.ACTIVE


def test_party_member_reports_to_community_and_staff_confirm(
    site, chromium, volunteer, community, community_staff
):
    member = _page(chromium)
    _sign_in(member, site, volunteer.phone, PASSWORD)
    member.locator("main a[href$='/communities/report/']").click()
    member.locator("select[name=community]").select_option(str(community.pk))
    member.locator("input[name=home_address]").fill("桂园小区3栋2单元501")
    member.locator("main form button[type=submit]").click()
    report = ResidenceReport.objects.get(user=volunteer)
    expect(member).to_have_url(re.compile(rf"/communities/report/{report.pk}/"))
    expect(member.locator("main")).to_contain_text(report.number)

    staff = _page(chromium)
    _sign_in(staff, site, community_staff.phone, PASSWORD)
    staff.goto(site + f"/communities/{community.pk}/manage/")
    staff.locator(
        f"form:has(input[name=action][value=confirm-report]):has(input[name=id][value='{report.pk}'])"
        " button[type=submit]"
    ).click()
    expect(staff.locator(".alert-success")).to_be_visible()
    report.refresh_from_db()
    assert report.status == ResidenceReportStatus.CONFIRMED

    member.goto(site + "/")
    expect(member.locator("main")).to_contain_text(community.name)
