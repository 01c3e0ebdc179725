"""From sign-up to a verifiable certificate, in a real browser.

A volunteer signs up for an activity on a phone-sized page, checks in by opening the QR code's
address shown on the team leader's screen, checks out the same way; the leader approves the
record that the check-out made; the person served rates it without an account; the volunteer
asks for a certificate, the branch secretary issues it in the admin, the volunteer downloads
the PDF, and the address printed under its QR code says the certificate is genuine.
"""

import datetime
import re
import subprocess

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.accounts.models import ServiceCategory
from apps.accounts.tests.volunteer_helpers import add_profile
from apps.activities.models import Activity, ActivityStatus, Signup
from apps.service_records.models import (
    Certificate,
    CertificateStatus,
    Evaluation,
    IssuerProfile,
    RecordStatus,
    ServiceRecord,
)
from apps.teams.models import TeamMembership, TeamMembershipStatus

from .conftest import BROWSER_LOCALE

pytestmark = pytest.mark.browser

PASSWORD = "secret-pass-123"


def _page(browser, *, phone=True):
    viewport = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 900}
    context = browser.new_context(locale=BROWSER_LOCALE, viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def _sign_in(page, site, user):
    page.goto(site + "/accounts/login/")
    page.locator("input[name=login]").fill(user.phone)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(site + "/")


def _checkin_url(leader, site, activity, direction):
    leader.goto(site + f"/activities/{activity.pk}/qr/{direction}/")
    url = leader.locator("[data-checkin-url]").get_attribute("data-checkin-url")
    assert "/activities/checkin/" in url
    return url if url.startswith("http") else site + url


def test_sign_up_check_in_approve_rate_and_verify_the_certificate(
    site, chromium, tmp_path, tree, team, team_leader, volunteer, branch_secretary
):
    add_profile(volunteer)
    add_profile(team_leader)
    TeamMembership.objects.create(team=team, user=volunteer, status=TeamMembershipStatus.ACTIVE)
    IssuerProfile.objects.create(
        organization=tree.branch, person_in_charge="陈志强", contact="027-88886666"
    )
    now = timezone.now()
    activity = Activity.objects.create(
        title="桂园社区敬老助餐",
        category=ServiceCategory.objects.get_or_create(code="elderly", defaults={"name": "助老"})[
            0
        ],
        organization=tree.branch,
        team=team,
        starts_at=now - datetime.timedelta(minutes=50),
        ends_at=now + datetime.timedelta(hours=2),
        place="桂园社区老年食堂",
        capacity=10,
        description="为社区老人打饭送餐",
        risks="注意地面湿滑",
        responsible=team_leader,
        status=ActivityStatus.PUBLISHED,
    )

    # The volunteer reads the risks and signs up on the phone.
    phone = _page(chromium)
    _sign_in(phone, site, volunteer)
    phone.goto(site + f"/activities/{activity.pk}/")
    expect(phone.locator("main")).to_contain_text("注意地面湿滑")
    phone.locator("input[name=risks_read]").check()
    phone.locator("[data-signup-form] button[type=submit]").click()
    signup = Signup.objects.get(activity=activity, volunteer=volunteer)
    assert signup.status == "confirmed"

    # The leader's screen shows the check-in code; the phone opens its address and confirms.
    leader = _page(chromium, phone=False)
    _sign_in(leader, site, team_leader)
    phone.goto(_checkin_url(leader, site, activity, "in"))
    phone.locator("[data-checkin-confirm]").click()
    expect(phone.locator("main .alert-success")).to_be_visible()
    signup.refresh_from_db()
    assert signup.checked_in_at is not None
    # The volunteer served for 45 minutes before checking out.
    Signup.objects.filter(pk=signup.pk).update(
        checked_in_at=timezone.now() - datetime.timedelta(minutes=45)
    )
    phone.goto(_checkin_url(leader, site, activity, "out"))
    phone.locator("[data-checkin-confirm]").click()
    expect(phone.locator("main .alert-success")).to_be_visible()
    record = ServiceRecord.objects.get(signup=signup)
    assert record.status == RecordStatus.SUBMITTED
    assert 44 <= record.duration_minutes <= 46

    # The leader approves it from the review queue.
    leader.goto(site + "/records/review/")
    row = leader.locator(f"[data-review-row='{record.pk}']")
    row.locator("button[formaction$='/approve/']").click()
    expect(leader.locator(f"[data-review-row='{record.pk}'] [data-row-status]")).to_have_attribute(
        "data-row-status", "approved"
    )
    record.refresh_from_db()
    assert (record.status, record.reviewed_by) == (RecordStatus.APPROVED, team_leader)

    # The person served rates it from the record's link, without an account.
    resident = _page(chromium)
    resident.goto(site + f"/records/rate/{record.evaluation_token}/")
    resident.locator("input[name=stars][value='5']").check()
    resident.locator("textarea[name=comment]").fill("小王很耐心，饭菜送得及时")
    resident.locator("main form button[type=submit]").click()
    expect(resident.locator("main form button[type=submit]")).to_have_count(0)
    assert Evaluation.objects.get(record=record).stars == 5

    # The volunteer asks the branch for a certificate of this year's service.
    phone.goto(site + "/certificates/request/")
    phone.locator("select[name=issuer]").select_option(str(tree.branch.pk))
    today = timezone.localdate()
    phone.locator("input[name=period_start]").fill(f"{today.year}-01-01")
    phone.locator("input[name=period_end]").fill(today.isoformat())
    phone.locator("main form button[type=submit]").click()
    certificate = Certificate.objects.get(volunteer=volunteer)
    assert certificate.status == CertificateStatus.REQUESTED

    # The branch secretary issues it in the admin.
    secretary = _page(chromium, phone=False)
    _sign_in(secretary, site, branch_secretary)
    secretary.goto(site + "/admin/service_records/certificate/")
    secretary.locator(f"input[name=_selected_action][value='{certificate.pk}']").check()
    secretary.locator("select[name=action]").select_option("issue_selected")
    secretary.locator("button[name=index]").click()
    expect(secretary.locator(".messagelist .success")).to_be_visible()
    certificate.refresh_from_db()
    assert certificate.status == CertificateStatus.ISSUED
    assert certificate.hours > 0

    # The volunteer downloads the PDF from My certificates.
    phone.goto(site + "/certificates/")
    href = phone.locator(f"a[href$='/certificates/{certificate.pk}/pdf/']").get_attribute("href")
    response = phone.context.request.get(site + href)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(response.body())
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    squeezed = re.sub(r"\s+", "", text)  # the title is letter-spaced, the address wraps
    assert "志愿服务证明" in squeezed and certificate.number in squeezed
    # The address under the QR code (the code encodes the same address).
    match = re.search(r"https?://[^\s]*?/certificates/verify/[A-Za-z0-9_-]{43}/", squeezed)
    assert match, "the certificate prints its verification address"

    # Anyone who scans it sees that it is genuine.
    checker = _page(chromium)
    checker.goto(match.group(0))
    expect(checker.locator("[data-verdict]")).to_have_attribute("data-verdict", "genuine")
    expect(checker.locator("main")).to_contain_text(certificate.number)
