"""扫码签到 in a real browser (issue 5): the operator's class-site screen shows the QR code as SVG;
the trainee, on a phone-sized Chromium with a fake camera and a position near the class site, opens
the code's URL, the page takes a selfie from the fake camera and the position, and the check-in is
recorded (source SELF, method FACE, photo hash, position). An expired code shows the Chinese error.

Screenshots: var/screenshots/checkin-*.png.
"""

import datetime as dt
import os
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from peixun.attendance.models import AttendanceRecord
from peixun.checkin import tokens
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.visitor import Visitor
from tests.test_checkin import SITE, Site

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
# About 50 m from the class site, as a phone in the classroom would report.
NEAR_SITE = {"latitude": SITE[0] + 0.0004, "longitude": SITE[1] + 0.0003, "accuracy": 20}


@pytest.fixture(scope="module")
def camera_browser(allow_async_unsafe):
    """Chromium with a fake camera (a generated test pattern) and camera prompts answered yes."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is missing (scripts/ensure-browser.sh installs it)")
    from playwright.sync_api import sync_playwright

    args = [*CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def open_as(camera_browser, live_server, screenshot_dir):
    opened = []

    def make(viewport, **options):
        visit = Visitor(camera_browser, live_server.url, screenshot_dir, "checkin", viewport, **options)
        opened.append(visit)
        return visit

    yield make
    for visit in opened:
        visit.context.close()
    for visit in opened:
        assert visit.errors == [], "console errors:\n" + "\n".join(visit.errors)


@pytest.fixture
def site(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"  # the live server runs in this process
    return Site(world)


def phone(open_as):
    return open_as(
        PHONE,
        permissions=["camera", "geolocation"],
        geolocation=NEAR_SITE,
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )


def test_trainee_checks_in_with_selfie_and_position(live_server, site, open_as):
    # The operator puts the code on the class-site screen.
    screen = open_as({"width": 1280, "height": 800})
    screen.login(site.operator.username)
    screen.goto(f"/checkin/lessons/{site.lesson.pk}/display/")
    qr = screen.page.locator("#checkin-qr-box svg.checkin-qr-svg")
    expect(qr).to_be_visible()
    assert qr.locator("path").count() >= 1
    expect(screen.page.locator("#checkin-count")).to_have_text("已签到 0 / 1 人")
    screen.shot("display")
    scan_url = screen.page.locator(".checkin-qr").get_attribute("data-scan-url")
    assert scan_url.startswith(live_server.url + "/checkin/t/")

    # The trainee scans it on the phone.
    trainee = phone(open_as)
    trainee.login(site.trainee.username)
    trainee.goto(scan_url.removeprefix(live_server.url))
    form = trainee.page.locator("#checkin-form")
    expect(form).to_have_attribute("data-camera-ready", "1")
    expect(form).to_have_attribute("data-geo-ready", "1")
    expect(trainee.page.locator("#checkin-video")).to_be_visible()
    expect(trainee.page.locator("#checkin-file")).to_be_hidden()
    trainee.shot("scan")
    assert trainee.scroll_width() <= PHONE["width"]

    trainee.page.get_by_role("button", name="拍照签到").click()
    done = trainee.page.locator(".checkin-done")
    expect(done).to_contain_text("签到成功")
    expect(trainee.page.locator("#checkin-canvas")).to_be_visible()  # the selfie taken
    trainee.shot("done", full_page=True)

    record = AttendanceRecord.objects.get()
    assert record.source == "SELF"
    assert record.method == AttendanceRecord.Method.FACE
    assert record.person == site.world.li_ming
    assert re.fullmatch(r"[0-9a-f]{64}", record.photo_sha256)
    assert record.lat == pytest.approx(NEAR_SITE["latitude"])
    assert record.lon == pytest.approx(NEAR_SITE["longitude"])
    shown = re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", done.inner_text()).group(0)
    assert shown == timezone.localtime(record.check_in).strftime("%Y-%m-%d %H:%M:%S")

    # At the start of the next 30-second slot htmx swaps in the polling box (every 30s) with a new
    # code for a new slot, and the count of check-ins.
    # The first swap may already have happened while the trainee was checking in (a slot boundary
    # can fall in between): then the count arrives with the next one, at most 30 s later.
    box = screen.page.locator('#checkin-qr-box[hx-trigger="every 30s"]')
    expect(box).to_have_count(1, timeout=35_000)
    expect(screen.page.locator("#checkin-count")).to_have_text("已签到 1 / 1 人", timeout=35_000)
    fresh = screen.page.locator(".checkin-qr").get_attribute("data-scan-url")
    assert fresh != scan_url
    assert tokens.read_token(fresh.rstrip("/").rsplit("/", 1)[1], lesson_id=site.lesson.pk)
    expect(box.locator("svg.checkin-qr-svg")).to_be_visible()
    screen.shot("display-refreshed")


def test_expired_code_shows_the_chinese_error(live_server, site, open_as):
    trainee = phone(open_as)
    trainee.login(site.trainee.username)
    old = tokens.make_token(site.lesson.pk, dt.datetime.now(dt.UTC) - dt.timedelta(seconds=61))
    trainee.goto(f"/checkin/t/{old}/")
    expect(trainee.page.locator(".checkin-refused")).to_contain_text("二维码已过期，请重新扫码")
    expect(trainee.page.locator("#checkin-form")).to_have_count(0)
    trainee.shot("expired")
    assert not AttendanceRecord.objects.exists()
