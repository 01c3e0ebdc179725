"""An award from nomination to the volunteer's record, in a real browser.

The branch secretary nominates an eligible volunteer on the dashboard; the city's administrator
starts the publicity; a signed-in resident raises an objection on the phone-sized publicity
page; the administrator dismisses it; once the period is over (its dates moved into the past)
the administrator awards; the volunteer finds the award on “my awards”.
"""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from apps.awards import rollup
from apps.awards.models import (
    AssessmentYear,
    Award,
    AwardCategory,
    AwardKind,
    Nomination,
    NominationStatus,
    Objection,
    ObjectionStatus,
)
from apps.awards.tests.conftest import NOW, YEAR

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


@pytest.fixture
def award_world(site, world):
    """The year rolled up, and a category every active party member meets. (Not the hand-made
    year of the roll-up tests: its points entries refuse the flush that ends a browser test on
    SQLite.)"""
    rollup.rollup_run_year(year=YEAR, now=NOW)
    world.assessment_year = AssessmentYear.objects.get(year=YEAR)
    world.category = AwardCategory.objects.create(
        name="优秀社区志愿者（测试）",
        kind=AwardKind.VOLUNTEER,
        awarding_unit="中共江城市委组织部",
        party_members_only=True,
    )
    return world


def test_nominate_publicise_object_resolve_award_and_see_it(site, chromium, award_world):
    w = award_world
    category_url = site + reverse(
        "dashboard:award-category", kwargs={"year": YEAR, "category_pk": w.category.pk}
    )

    # The branch secretary nominates the volunteer, who meets the rules.
    secretary = _page(chromium, phone=False)
    _sign_in(secretary, site, w.cast.branch_secretary)
    secretary.goto(category_url)
    row = secretary.locator(f"[data-candidate='v{w.cast.volunteer.pk}']")
    row.locator("summary").click()
    row.locator("textarea[name=deeds]").fill("常年为独居老人送餐，组织楼道清扫。")
    row.locator("[data-nominate-form] button[type=submit]").click()
    expect(secretary.locator("main .alert-success")).to_be_visible()
    nomination = Nomination.objects.get(volunteer=w.cast.volunteer)
    assert nomination.status == NominationStatus.NOMINATED

    # The city's administrator starts the publicity for the category.
    admin = _page(chromium, phone=False)
    _sign_in(admin, site, w.cast.city_admin)
    admin.goto(category_url)
    admin.locator("[data-publicity-form] button[type=submit]").click()
    expect(admin.locator("main .alert-success")).to_be_visible()
    nomination.refresh_from_db()
    assert nomination.status == NominationStatus.PUBLICITY

    # A signed-in resident objects on the phone.
    resident = _page(chromium)
    _sign_in(resident, site, w.cast.outsider)
    resident.goto(site + reverse("portal:publicity"))
    card = resident.locator(f"[data-publicity='{nomination.pk}']")
    expect(card).to_contain_text("常年为独居老人送餐")
    assert resident.evaluate("document.documentElement.scrollWidth") <= 390
    card.locator("summary").click()
    card.locator("textarea[name=text]").fill("听说该同志的部分服务记录是补录的，请核实。")
    card.locator("[data-objection-form] button[type=submit]").click()
    expect(resident.locator("main .alert-success")).to_be_visible()
    objection = Objection.objects.get(nomination=nomination)

    # The administrator looks into it and dismisses it.
    admin.goto(site + reverse("dashboard:nomination-detail", kwargs={"pk": nomination.pk}))
    form = admin.locator(f"[data-objection='{objection.pk}'] [data-resolve-form]")
    form.locator("input[name=upheld][value='0']").check()
    form.locator("textarea[name=resolution]").fill("经核实，补录均经审核，记录属实。")
    form.locator("button[type=submit]").click()
    expect(admin.locator("main .alert-success")).to_be_visible()
    objection.refresh_from_db()
    assert objection.status == ObjectionStatus.DISMISSED

    # The period ends; the administrator awards.
    ended = timezone.localdate() - datetime.timedelta(days=1)
    Nomination.objects.filter(pk=nomination.pk).update(
        publicity_starts_on=ended - datetime.timedelta(days=6), publicity_ends_on=ended
    )
    admin.reload()
    decide = admin.locator("[data-decide-form]")
    decide.locator("input[name=awarded][value='1']").check()
    decide.locator("button[type=submit]").click()
    expect(admin.locator("[data-award]")).to_be_visible()
    award = Award.objects.get(nomination=nomination)
    assert award.volunteer == w.cast.volunteer

    # The volunteer sees it on “my awards”, on the phone.
    volunteer = _page(chromium)
    _sign_in(volunteer, site, w.cast.volunteer)
    volunteer.goto(site + reverse("portal:award-list"))
    item = volunteer.locator(f"[data-award='{award.pk}']")
    expect(item).to_contain_text(w.category.name)
    expect(item).to_contain_text("中共江城市委组织部")
    expect(item).to_contain_text(award.awarded_on.isoformat())
    # Nothing overflows the phone's width.
    assert volunteer.evaluate("document.documentElement.scrollWidth") <= 390
