"""A volunteer signs in with a mobile number in a real browser and sees the portal in Chinese."""

import re

import pytest
from django.utils import translation
from playwright.sync_api import expect

from .conftest import BROWSER_LOCALE

pytestmark = pytest.mark.browser

PASSWORD = "secret-pass-123"  # UserFactory's password
PHONE_VIEWPORT = {"width": 390, "height": 844}


def expected_heading(user) -> str:
    with translation.override("zh-hans"):
        greeting = translation.gettext("Hello, %(name)s")
    assert greeting != "Hello, %(name)s", "zh_Hans catalogue not compiled: make compilemessages"
    return greeting % {"name": user.get_full_name()}


def sign_in_with_phone(page, base_url, user):
    page.goto(base_url + "/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    submit = page.locator("main form button[type=submit]")
    expect(submit).to_have_text("登录")

    page.locator("input[name=login]").fill(user.phone)
    page.locator("input[name=password]").fill(PASSWORD)
    submit.click()

    expect(page).to_have_url(base_url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("h1")).to_have_text(expected_heading(user))
    expect(page.locator("main")).to_contain_text("桂园社区党支部")


def test_volunteer_signs_in_with_phone_and_sees_home(site, volunteer, chromium, tmp_path):
    context = chromium.new_context(locale=BROWSER_LOCALE)
    page = context.new_page()
    page.set_default_timeout(5_000)

    sign_in_with_phone(page, site, volunteer)
    expect(page.locator("h1")).to_contain_text("王秀英")

    screenshot = tmp_path / "portal-home.png"
    page.screenshot(path=screenshot, full_page=True)
    assert screenshot.stat().st_size > 0
    assert screenshot.read_bytes().startswith(b"\x89PNG")
    context.close()


def test_large_text_toggle_on_a_phone(site, volunteer, chromium):
    context = chromium.new_context(
        locale=BROWSER_LOCALE,
        viewport=PHONE_VIEWPORT,
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    page.set_default_timeout(5_000)
    sign_in_with_phone(page, site, volunteer)
    expect(page.locator("h1")).to_contain_text("王秀英")

    html = page.locator("html")
    root_font_size = "() => parseFloat(getComputedStyle(document.documentElement).fontSize)"
    normal_size = page.evaluate(root_font_size)
    expect(html).not_to_have_class(re.compile(r"\blarge-text\b"))

    # On a phone the navigation, with the button in it, sits behind the menu toggler.
    toggle = page.locator("[data-toggle-large-text]")
    expect(toggle).to_be_hidden()
    # Wait for the page to settle (the inbox badge loads by htmx) and the menu to finish
    # opening, so the click lands on the button and not on a link that moved under it.
    page.wait_for_load_state("networkidle")
    page.locator(".navbar-toggler").click()
    expect(page.locator("#main-nav")).to_have_class(re.compile(r"(^|\s)show(\s|$)"))
    toggle.click()
    expect(html).to_have_class(re.compile(r"\blarge-text\b"))
    expect(toggle).to_have_attribute("aria-pressed", "true")
    page.wait_for_function(f"() => ({root_font_size})() > {normal_size}")

    # Remembered on this device: still large after a reload.
    page.reload()
    expect(html).to_have_class(re.compile(r"\blarge-text\b"))
    expect(toggle).to_have_attribute("aria-pressed", "true")

    page.wait_for_load_state("networkidle")
    page.locator(".navbar-toggler").click()
    expect(page.locator("#main-nav")).to_have_class(re.compile(r"(^|\s)show(\s|$)"))
    toggle.click()
    expect(html).not_to_have_class(re.compile(r"\blarge-text\b"))
    expect(toggle).to_have_attribute("aria-pressed", "false")
    # The page may still be restyling right after the click: wait for the size to settle back.
    page.wait_for_function(f"() => ({root_font_size})() === {normal_size}")
    context.close()
