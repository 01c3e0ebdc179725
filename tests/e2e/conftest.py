"""Browser tests: Debian's Chromium, driven by Playwright's sync API, against the live server.

Playwright's own browser download does not work here, so the browser is the distribution's
``/usr/bin/chromium`` and these fixtures launch it themselves instead of going through
pytest-playwright's session-wide ``browser``. One Playwright per test keeps its event loop
from outliving the test.
"""

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# What a volunteer's phone sends: a browser set to Chinese.
BROWSER_LOCALE = "zh-CN"


def running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require_chromium() -> None:
    """Skip without Chromium on a developer's machine; in CI a missing browser is a failure."""
    if CHROMIUM.exists():
        return
    message = "Debian chromium is not installed: apt-get install chromium"
    if running_in_ci():
        pytest.fail(f"{message} (CI is set, so browser tests may not be skipped)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _allow_async_unsafe(monkeypatch):
    # Playwright's sync API keeps an asyncio loop running in the test's thread, and Django
    # refuses ORM calls from a thread with a running loop (the database flush at teardown).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def chromium():
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True, timeout=30_000
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def site(transactional_db, live_server):
    """The live server's base URL; the database is transactional so its thread sees our rows."""
    return live_server.url
