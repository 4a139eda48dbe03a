"""Browser fixtures: one headless Debian Chromium per module, a fresh context per user.

Playwright's sync API runs an event loop in the test thread, so Django's async-safety check has to be
told that synchronous ORM calls from that thread (fixtures, assertions) are fine.
"""

import os
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--lang=zh-CN",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="module", autouse=True)
def allow_async_unsafe():
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="module")
def browser(allow_async_unsafe):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is missing (scripts/ensure-browser.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def visitor(browser, live_server, screenshot_dir):
    """`with visitor("prefix") as visit:` — a fresh browser context; no console error allowed."""
    from .visitor import Visitor

    opened = []

    @contextmanager
    def open_as(prefix: str, viewport=DESKTOP, **context_options):
        visit = Visitor(browser, live_server.url, screenshot_dir, prefix, viewport, **context_options)
        opened.append(visit)
        yield visit
        assert visit.errors == [], "console errors:\n" + "\n".join(visit.errors)

    yield open_as
    for visit in opened:
        visit.context.close()
