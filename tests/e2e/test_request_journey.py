"""点单→审单→派单→接单→评单 in a real browser.

A resident with no account sends a micro-wish from the community's QR page; community staff
accept it and dispatch it to the paired team; the team leader assigns a volunteer; the volunteer
marks it done with a photo; the resident rates it from the link on their receipt.
"""

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from apps.accounts.tests.volunteer_helpers import add_profile
from apps.care.models import RequestStatus, ServiceRequest
from apps.communities.models import TeamPairing
from apps.teams.models import TeamMembership, TeamMembershipStatus

from .conftest import BROWSER_LOCALE

pytestmark = pytest.mark.browser

PASSWORD = "secret-pass-123"


def _page(browser):
    context = browser.new_context(locale=BROWSER_LOCALE, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(8_000)
    return page


def _sign_in(page, site, user):
    page.goto(site + "/accounts/login/")
    page.locator("input[name=login]").fill(user.phone)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(site + "/")


def _photo(tmp_path):
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, format="PNG")
    path = tmp_path / "done.png"
    path.write_bytes(buffer.getvalue())
    return path


def test_micro_wish_from_qr_to_rating(
    site, chromium, tmp_path, community, community_staff, team, team_leader, volunteer
):
    TeamPairing.objects.create(team=team, community=community)
    add_profile(volunteer)
    add_profile(team_leader)
    TeamMembership.objects.create(team=team, user=volunteer, status=TeamMembershipStatus.ACTIVE)

    # 点单: the resident scans the community's code and sends a micro-wish, no account needed.
    resident = _page(chromium)
    resident.goto(site + f"/r/{community.pk}/?src=qr")
    resident.locator("input[name=kind][value=micro_wish]").check()
    resident.locator("input[name=title]").fill("帮忙买一袋大米")
    resident.locator("input[name=requester_name]").fill("张阿姨")
    resident.locator("input[name=requester_phone]").fill("13955556666")
    resident.locator("main form button[type=submit]").click()
    expect(resident).to_have_url(re.compile(r"/r/submitted/[^/]+/$"))
    wish = ServiceRequest.objects.get(title="帮忙买一袋大米")
    assert (wish.channel, wish.kind) == ("qr", "micro_wish")
    expect(resident.locator("main")).to_contain_text(wish.tracking_number)
    rate_url = resident.locator("main a[href*='/r/rate/']").first.get_attribute("href")

    # 审单 and 派单: community staff accept it and dispatch it to the paired team.
    staff = _page(chromium)
    _sign_in(staff, site, community_staff)
    staff.goto(site + "/requests/queue/")
    staff.locator(
        f"form[action$='/requests/{wish.pk}/act/']:has(input[value=accept]) button"
    ).click()
    staff.locator(f"form[action$='/requests/{wish.pk}/act/'] select[name=team]").select_option(
        str(team.pk)
    )
    staff.locator(
        f"form[action$='/requests/{wish.pk}/act/']:has(input[value=dispatch]) button"
    ).click()
    expect(staff.locator(".alert-success").last).to_be_visible()
    wish.refresh_from_db()
    assert (wish.status, wish.dispatched_team) == (RequestStatus.DISPATCHED, team)

    # 接单: the team leader accepts and assigns the volunteer.
    leader = _page(chromium)
    _sign_in(leader, site, team_leader)
    leader.goto(site + "/requests/team/")
    form = leader.locator(f"form[action$='/requests/{wish.pk}/team/']:has(input[value=accept])")
    form.locator("select[name=volunteer]").select_option(str(volunteer.pk))
    form.locator("button").click()
    wish.refresh_from_db()
    assert (wish.status, wish.assigned_volunteer) == (RequestStatus.IN_PROGRESS, volunteer)

    # The volunteer marks it done with a photo.
    helper = _page(chromium)
    _sign_in(helper, site, volunteer)
    helper.goto(site + "/requests/mine/")
    helper.locator(f"main a[href$='/requests/{wish.pk}/complete/']").click()
    helper.locator("textarea[name=note]").fill("已送到张阿姨家中")
    helper.locator("input[name=photos]").set_input_files(str(_photo(tmp_path)))
    helper.locator("main form button[type=submit]").click()
    wish.refresh_from_db()
    assert wish.status == RequestStatus.DONE
    assert wish.evidence.count() == 1

    # 评单: the resident rates it from the link on the receipt, once.
    resident.goto(rate_url if rate_url.startswith("http") else site + rate_url)
    resident.locator("input[name=stars][value='5']").check()
    resident.locator("textarea[name=comment]").fill("很及时，谢谢！")
    resident.locator("main form button[type=submit]").click()
    wish.refresh_from_db()
    assert (wish.status, wish.rating_stars) == (RequestStatus.CLOSED, 5)
    resident.goto(rate_url if rate_url.startswith("http") else site + rate_url)
    expect(resident.locator("main form button[type=submit]")).to_have_count(0)
