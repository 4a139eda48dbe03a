"""The region department's settings pages (rule numbers, working-day calendar) and page security.

Rule numbers (第九条 5 working days for opening review, 第十一条, 第十四条, 第十九条 …) are data: only the
region department changes them, each change is a new version with its reason, and the audit chain
records before and after (第二十条: records must not be altered unnoticed). Working-day deadlines
need the year's official 放假/调休 arrangement, which the region department enters.
"""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import timezone

from peixun.core.models import AuditEntry, CalendarDay, CalendarYear, RuleSettings

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def rule_post_data(**changes) -> dict:
    """The form as the page submits it: every current value, with `changes` applied."""
    current = RuleSettings.objects.order_by("-version").first()
    data = {k: ("" if v is None else str(v)) for k, v in current.as_dict().items()}
    data.update({k: str(v) for k, v in changes.items()})
    return data


@pytest.fixture
def october_2026(monkeypatch):
    """Today is 2026-10-15: 2026 is entered (seeded), 2027 is due (entered from October on)."""
    frozen = dt.datetime(2026, 10, 15, 10, 0, tzinfo=SHANGHAI)
    monkeypatch.setattr(timezone, "now", lambda: frozen)
    return frozen


# --- rule settings ------------------------------------------------------------------------------


def test_region_admin_changes_a_rule_value_as_a_new_version(client, world):
    """第九条: the 5-working-day opening review period is a setting; a change keeps the old version."""
    client.force_login(world.region_admin)
    data = rule_post_data(opening_review_workdays=6, reason="依据内人社发〔2026〕12号调整")
    response = client.post(reverse("rule_settings"), data)
    assert response.status_code == 302
    assert response["Location"] == reverse("rule_settings")

    assert RuleSettings.objects.count() == 2
    old = RuleSettings.objects.get(version=1)
    new = RuleSettings.objects.get(version=2)
    assert old.opening_review_workdays == 5
    assert new.opening_review_workdays == 6
    assert new.created_by == world.region_admin
    assert new.reason == "依据内人社发〔2026〕12号调整"
    # Other values carried over unchanged.
    assert new.completion_review_workdays == old.completion_review_workdays == 3
    assert new.online_max_share == old.online_max_share

    html = client.get(reverse("rule_settings")).content.decode()
    assert "第2版" in html
    assert "规则参数已更新为第2版" in html
    assert "依据内人社发〔2026〕12号调整" in html


def test_rule_change_is_audited_with_before_and_after(client, world):
    client.force_login(world.region_admin)
    client.post(
        reverse("rule_settings"),
        rule_post_data(opening_review_workdays=6, online_max_share="0.35", reason="试行调整"),
    )
    entry = AuditEntry.objects.get(action="rule_settings.changed")
    assert entry.actor == world.region_admin
    assert entry.before["opening_review_workdays"] == 5
    assert entry.after["opening_review_workdays"] == 6
    assert entry.before["online_max_share"] == "0.40"
    assert entry.after["online_max_share"] == "0.35"
    assert entry.after["reason"] == "试行调整"
    assert entry.object_repr == "规则参数 v2"


@pytest.mark.parametrize("user_attr", ["hohhot_admin", "xincheng_reviewer"])
def test_officials_see_the_rule_values_but_no_form(client, world, user_attr):
    client.force_login(getattr(world, user_attr))
    response = client.get(reverse("rule_settings"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "开班审核时限（工作日）" in html
    assert "第九条" in html
    assert "第1版" in html
    assert 'name="reason"' not in html
    assert 'method="post"' not in html.split("<main", 1)[1]


@pytest.mark.parametrize("user_attr", ["hohhot_admin", "xincheng_reviewer", "inst_a_operator"])
def test_only_the_region_admin_may_post_rule_changes(client, world, user_attr):
    client.force_login(getattr(world, user_attr))
    response = client.post(reverse("rule_settings"), rule_post_data(opening_review_workdays=9, reason="越权"))
    assert response.status_code == 404
    assert RuleSettings.objects.count() == 1
    assert RuleSettings.objects.get().opening_review_workdays == 5
    assert not AuditEntry.objects.filter(action="rule_settings.changed").exists()


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_rule_change_without_reason_is_refused_in_chinese(client, world, reason):
    client.force_login(world.region_admin)
    data = rule_post_data(opening_review_workdays=6)
    if reason is not None:
        data["reason"] = reason
    response = client.post(reverse("rule_settings"), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "请修改以下问题后再保存" in html
    assert "修改原因：这个字段是必填项。" in html
    assert RuleSettings.objects.count() == 1
    assert RuleSettings.objects.get().opening_review_workdays == 5
    assert not AuditEntry.objects.filter(action="rule_settings.changed").exists()


def test_a_rule_change_that_changes_nothing_is_refused(client, world):
    client.force_login(world.region_admin)
    response = client.post(reverse("rule_settings"), rule_post_data(reason="没有改动"))
    assert response.status_code == 200
    assert "参数没有变化" in response.content.decode()
    assert RuleSettings.objects.count() == 1


def test_an_invalid_rule_value_is_refused(client, world):
    client.force_login(world.region_admin)
    response = client.post(
        reverse("rule_settings"), rule_post_data(opening_review_workdays="五", reason="输入错误")
    )
    assert response.status_code == 200
    assert "开班审核时限（工作日）" in response.content.decode()
    assert RuleSettings.objects.count() == 1


# --- calendar -----------------------------------------------------------------------------------


def test_calendar_page_renders_the_twelve_months_of_a_year(client, world):
    client.force_login(world.xincheng_reviewer)
    response = client.get(reverse("calendar"), {"year": 2026})
    assert response.status_code == 200
    html = response.content.decode()
    assert "2026年工作日历" in html
    assert "已启用" in html
    months = re.findall(r'<div class="fw-semibold small mb-1">(\d+)月</div>', html)
    assert months == [str(m) for m in range(1, 13)]
    # 2026-10-01 国庆节 is a holiday; the 调休 Saturday 2026-10-10 is a working day.
    assert "2026-10-01" in html
    assert "国庆节" in html
    assert CalendarDay.objects.get(date=dt.date(2026, 10, 10)).kind == CalendarDay.Kind.WORKDAY
    # A reviewer sees no editing forms.
    assert 'name="day-date"' not in html


def test_calendar_page_of_a_year_not_entered_warns(client, world):
    client.force_login(world.region_admin)
    html = client.get(reverse("calendar"), {"year": 2027}).content.decode()
    assert "2027年的放假和调休安排尚未录入" in html
    assert re.findall(r'<div class="fw-semibold small mb-1">(\d+)月</div>', html) == []
    assert 'name="day-date"' in html
    assert 'name="year-year"' in html


def test_calendar_page_with_a_bad_year_falls_back_to_this_year(client, world, october_2026):
    client.force_login(world.region_admin)
    response = client.get(reverse("calendar"), {"year": "abc"})
    assert response.status_code == 200
    assert "2026年工作日历" in response.content.decode()


def test_region_admin_enters_a_day_and_opens_a_year_and_the_pending_item_goes(client, world, october_2026):
    client.force_login(world.region_admin)
    pending = "录入2027年放假和调休安排"
    home = client.get(reverse("home")).content.decode()
    assert pending in home
    assert "录入2026年放假和调休安排" not in home

    response = client.post(
        reverse("calendar") + "?year=2027",
        {"day-date": "2027-01-01", "day-kind": "HOLIDAY", "day-name": "元旦"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("calendar") + "?year=2027"
    day = CalendarDay.objects.get(date=dt.date(2027, 1, 1))
    assert (day.kind, day.name) == (CalendarDay.Kind.HOLIDAY, "元旦")
    assert AuditEntry.objects.filter(action="calendar.day_set", object_id="2027-01-01").exists()
    # A day alone does not open the year: the pending item stays.
    assert pending in client.get(reverse("home")).content.decode()

    response = client.post(
        reverse("calendar") + "?year=2027",
        {"year-year": "2027", "year-source": "国务院办公厅关于2027年部分节假日安排的通知"},
    )
    assert response.status_code == 302
    assert CalendarYear.objects.get(year=2027).source == "国务院办公厅关于2027年部分节假日安排的通知"
    assert AuditEntry.objects.filter(action="calendar.year_opened").exists()

    home = client.get(reverse("home")).content.decode()
    assert pending not in home
    html = client.get(reverse("calendar"), {"year": 2027}).content.decode()
    assert "已启用" in html
    assert 'title="元旦"' in html


def test_next_years_calendar_is_not_pending_before_october(client, world, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI))
    client.force_login(world.region_admin)
    assert "录入2027年放假和调休安排" not in client.get(reverse("home")).content.decode()


def test_calendar_pending_item_is_only_for_the_region_admin(client, world, october_2026):
    client.force_login(world.hohhot_admin)
    assert "录入2027年放假和调休安排" not in client.get(reverse("home")).content.decode()


def test_a_workday_on_a_weekday_is_refused_with_a_chinese_message(client, world):
    client.force_login(world.region_admin)
    response = client.post(
        reverse("calendar") + "?year=2027", {"day-date": "2027-01-06", "day-kind": "WORKDAY", "day-name": ""}
    )
    assert response.status_code == 200
    assert "2027-01-06本是工作日，无需设为调休上班" in response.content.decode()
    assert not CalendarDay.objects.filter(date=dt.date(2027, 1, 6)).exists()


def test_opening_a_year_twice_is_refused(client, world):
    client.force_login(world.region_admin)
    response = client.post(reverse("calendar"), {"year-year": "2026", "year-source": "重复"}, follow=True)
    assert "2026年已启用" in response.content.decode()
    assert CalendarYear.objects.get(year=2026).source != "重复"


@pytest.mark.parametrize("user_attr", ["xincheng_reviewer", "hohhot_admin"])
def test_only_the_region_admin_may_post_to_the_calendar(client, world, user_attr):
    client.force_login(getattr(world, user_attr))
    day = client.post(
        reverse("calendar"), {"day-date": "2027-01-01", "day-kind": "HOLIDAY", "day-name": "元旦"}
    )
    year = client.post(reverse("calendar"), {"year-year": "2027", "year-source": "越权"})
    assert day.status_code == year.status_code == 404
    assert not CalendarDay.objects.filter(date=dt.date(2027, 1, 1)).exists()
    assert not CalendarYear.objects.filter(year=2027).exists()
    assert not AuditEntry.objects.filter(action__startswith="calendar.").exists()


# --- security headers and page sources ----------------------------------------------------------


def csp_directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    directives = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


@pytest.mark.parametrize("path", ["/people/", "/", "/settings/calendar/"])
def test_pages_send_a_strict_content_security_policy(client, world, path):
    client.force_login(world.region_admin)
    response = client.get(path)
    assert response.status_code == 200
    csp = csp_directives(response)
    assert csp["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in csp["script-src"]
    assert "'unsafe-eval'" not in csp["script-src"]
    assert "'unsafe-inline'" not in csp["style-src"]
    assert csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]


def test_pages_forbid_framing_and_mime_sniffing(client, world):
    client.force_login(world.xincheng_reviewer)
    response = client.get(reverse("person_list"))
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_the_login_page_has_the_same_headers(client, db):
    response = client.get(reverse("login"))
    assert "'unsafe-inline'" not in csp_directives(response)["script-src"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_pages_with_personal_data_are_not_cached(client, world):
    """个人信息保护法 第五十一条(三): a shared browser or proxy must not keep a person's file."""
    client.force_login(world.xincheng_reviewer)
    response = client.get(reverse("person_detail", args=[world.li_ming.public_id]))
    assert response["Cache-Control"] == "no-store"


def test_only_the_api_docs_relax_the_policy(client, world):
    """Swagger UI needs inline bootstrapping; the exemption is limited to /api/docs."""
    client.force_login(world.region_admin)
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert "'unsafe-inline'" in csp_directives(docs)["script-src"]
    assert csp_directives(docs)["frame-ancestors"] == ["'none'"]
    api = client.get("/api/v1/me")
    assert api.status_code == 200
    assert "'unsafe-inline'" not in csp_directives(api)["script-src"]


SCRIPT_TAG = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.S | re.I)
STYLESHEET = re.compile(r"<link\b[^>]*>", re.I)
SRC = re.compile(r'\bsrc="([^"]*)"')
HREF = re.compile(r'\bhref="([^"]*)"')


def page_html(client, world) -> dict[str, str]:
    """Every page of the shell as the region admin sees it, and the login page anonymously."""
    pages = {"login": client.get(reverse("login")).content.decode()}
    client.force_login(world.region_admin)
    for path in [
        reverse("home"),
        reverse("person_list"),
        reverse("person_detail", args=[world.li_ming.public_id]),
        reverse("area_tree"),
        reverse("audit_list"),
        reverse("access_log"),
        reverse("rule_settings"),
        reverse("calendar") + "?year=2026",
        reverse("user_list"),
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        pages[path] = response.content.decode()
    return pages


def test_no_page_has_an_inline_script(client, world):
    """script-src 'self' would block inline scripts; none may exist, so none silently fails."""
    for path, html in page_html(client, world).items():
        scripts = SCRIPT_TAG.findall(html)
        assert scripts, f"{path}: expected the page's script tags"
        for attrs, body in scripts:
            assert SRC.search(attrs), f"{path}: <script{attrs}> has no src"
            assert body.strip() == "", f"{path}: inline script body"
        assert "<style" not in html.lower(), f"{path}: inline <style> block"
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", html, re.I), f"{path}: inline event handler"
        assert "javascript:" not in html.lower(), f"{path}: javascript: URL"


def test_scripts_and_styles_come_from_our_own_static_files(client, world):
    """No CDN: government intranets have no internet, and CSP allows only 'self'."""
    for path, html in page_html(client, world).items():
        sources = [SRC.search(attrs).group(1) for attrs, _body in SCRIPT_TAG.findall(html)]
        sources += [HREF.search(tag).group(1) for tag in STYLESHEET.findall(html) if "stylesheet" in tag]
        assert len(sources) >= 6, path
        for url in sources:
            assert not url.startswith(("http://", "https://", "//")), f"{path}: {url}"
            assert url.startswith("/static/"), f"{path}: {url}"
            assert finders.find(url.removeprefix("/static/")), f"{path}: {url} is not a static file"
        assert not re.search(r'(?:src|href)="(?:https?:)?//', html), path


def test_api_docs_load_swagger_from_our_static_files_not_a_cdn(client, world):
    """/api/docs must work on an intranet without internet, and under its own CSP ('self')."""
    client.force_login(world.region_admin)
    html = client.get("/api/docs").content.decode()
    sources = [SRC.search(attrs).group(1) for attrs, _body in SCRIPT_TAG.findall(html) if SRC.search(attrs)]
    sources += [HREF.search(tag).group(1) for tag in STYLESHEET.findall(html) if HREF.search(tag)]
    assert any(url.endswith("swagger-ui-bundle.js") for url in sources)
    for url in sources:
        assert url.startswith("/static/"), url
        assert finders.find(url.removeprefix("/static/")), url
    assert "cdn.jsdelivr.net" not in html
