"""The shell in a real browser: login, menu by role, 人员信息 with the logged 查看, settings, phone size.

Each page visited is screenshotted to var/screenshots/ and must log no console error: the
Content-Security-Policy forbids inline scripts, and a blocked one would show up as such an error.
"""

import re

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from peixun.accounts.models import User
from peixun.accounts.services import GENERIC_LOGIN_ERROR
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
SHELL_MENU = (
    "待办事项",
    "人员信息",
    "行政区划",
    "用户管理",
    "规则参数",
    "工作日历",
    "审计日志",
    "个人信息访问记录",
)


def test_region_admin_walks_through_the_shell(live_server, world, visitor):
    li_ming = world.li_ming
    full_id = li_ming.reveal_id_number()
    today = timezone.localdate()
    with visitor("region_admin") as v:
        page = v.page
        v.login("wang_region")
        expect(page.locator("h1")).to_have_text("待办事项")
        expect(page.locator(".px-content")).to_contain_text("数据范围：全自治区")
        next_year_item = page.locator("tbody tr", has_text=f"录入{today.year + 1}年放假和调休安排")
        if today.month >= 10:  # the item appears from October, when next year's holidays are due
            expect(next_year_item).to_have_count(1)
            expect(next_year_item).to_contain_text("工作日历")
        # Later apps add their own menu items; these are the shell's, all open to the region.
        assert set(SHELL_MENU) <= set(v.menu_labels())
        v.shot("home")

        v.menu("人员信息")
        expect(page.locator("tbody")).to_contain_text("李明")
        expect(page.locator("tbody")).to_contain_text("陈静")
        expect(page.locator("tbody")).to_contain_text(li_ming.id_masked)
        assert full_id not in page.content()
        v.shot("people")

        page.get_by_role("link", name="李明").click()
        expect(page.locator("h1")).to_contain_text("李明")
        id_number = page.locator("#id-number")
        expect(id_number).to_have_text(li_ming.id_masked)
        v.shot("person")
        page.get_by_role("button", name="查看").click()
        expect(id_number).to_have_text(full_id)
        expect(page.locator(".px-dl")).to_contain_text("已记录查看")
        expect(page.get_by_role("button", name="查看")).to_have_count(0)  # one reveal, one log entry
        v.shot("person-revealed")

        v.menu("工作日历")
        expect(page.locator("h1")).to_have_text(f"{today.year}年工作日历")
        expect(page.locator(".px-content")).to_contain_text("已启用")
        expect(page.locator("table.px-month")).to_have_count(12)
        v.shot("calendar", full_page=False)

        if today.month >= 10:
            # 待办事项 → 办理 leads to next year's empty calendar, where the region enters it day by day.
            v.menu("待办事项")
            next_year_item.get_by_role("link", name="办理").click()
            expect(page.locator("h1")).to_have_text(f"{today.year + 1}年工作日历")
            expect(page.locator(".alert-warning")).to_contain_text("尚未录入")
            page.fill("#id_day-date", f"{today.year + 1}-01-01")
            page.select_option("#id_day-kind", "HOLIDAY")
            page.fill("#id_day-name", "元旦")
            page.get_by_role("button", name="保存").click()
            expect(page.locator(".alert-success")).to_contain_text(f"已保存{today.year + 1}-01-01")
            expect(page.locator("table.px-table").first).to_contain_text("元旦")
            v.shot("calendar-next-year")

        v.menu("规则参数")
        expect(page.locator("h1")).to_contain_text("第1版")
        expect(page.locator("#id_opening_review_workdays")).to_have_value("5")
        expect(page.locator(".px-content")).to_contain_text("第九条")
        v.shot("rules")

        v.menu("审计日志")
        page.get_by_role("button", name="校验审计链").click()
        expect(page.locator("#verify-result")).to_contain_text("审计链完整")
        v.shot("audit", full_page=False)

        v.menu("个人信息访问记录")
        rows = page.locator("tbody tr", has_text="李明")
        expect(rows.filter(has_text="查看完整身份证号")).to_have_count(1)
        expect(rows.filter(has_text="查看人员档案")).to_have_count(1)
        v.shot("access-log")


def test_institution_operator_sees_only_its_own(live_server, world, visitor):
    with visitor("inst_operator") as v:
        page = v.page
        v.login("ma_hongxiang")
        expect(page.locator("h1")).to_have_text("待办事项")
        expect(page.locator(".px-topbar")).to_contain_text("鸿翔职业技能培训学校")
        expect(page.locator(".px-content")).to_contain_text("数据范围：本单位")
        # 培训机构经办人 (peixun/web/context.py + ROLE_PERMISSIONS): 查看人员 and 查看审计日志 of its
        # own records; none of the region's and bureaus' pages.
        labels = v.menu_labels()
        assert [label for label in labels if label in SHELL_MENU] == ["待办事项", "人员信息", "审计日志"]
        for hidden in ("行政区划", "用户管理", "规则参数", "工作日历", "个人信息访问记录"):
            assert hidden not in labels
        v.shot("home")

        v.menu("人员信息")
        expect(page.locator("tbody tr")).to_have_count(1)
        expect(page.locator("tbody")).to_contain_text("李明")
        expect(page.locator("tbody")).not_to_contain_text("陈静")
        expect(page.locator("#area")).to_have_count(0)  # no area filter for an institution
        v.shot("people")

        # Pages outside the role answer 404, like objects outside the scope (no console noise: API).
        for path in ("/settings/rules/", "/settings/calendar/", "/access-log/", "/users/"):
            assert page.request.get(live_server.url + path).status == 404, path
        chen_jing = page.request.get(f"{live_server.url}/people/{world.chen_jing.public_id}/")
        assert chen_jing.status == 404


def test_five_wrong_passwords_lock_the_account(live_server, world, visitor):
    failures = settings.PEIXUN_LOGIN_MAX_FAILURES
    with visitor("login") as v:
        page = v.page
        v.goto("/accounts/login/")
        v.shot("form", element=".px-login-card")
        for attempt in range(1, failures + 1):
            page.fill("#id_username", "ma_hongxiang")
            page.fill("#id_password", f"wrong-{attempt}")
            page.click("button[type=submit]")
            page.wait_for_load_state()
            if attempt < failures:
                expect(page.locator(".alert-danger")).to_have_text(GENERIC_LOGIN_ERROR)
        alert = page.locator(".alert-danger")
        expect(alert).to_contain_text(f"连续{failures}次登录失败")
        expect(alert).to_contain_text(f"账户已锁定{settings.PEIXUN_LOGIN_LOCK_MINUTES}分钟")
        v.shot("locked", element=".px-login-card")

        # Even the right password is refused while locked.
        page.fill("#id_username", "ma_hongxiang")
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        expect(page.locator(".alert-danger")).to_contain_text("账户因连续登录失败已被锁定")
    assert User.objects.get(username="ma_hongxiang").locked_until is not None

    with visitor("region_admin") as admin:
        page = admin.page
        admin.login("wang_region")
        item = page.locator("tbody tr", has_text="账户安全")
        expect(item).to_contain_text("马文华")
        item.get_by_role("link", name="办理").click()
        expect(page.locator("h1")).to_have_text("用户管理")
        row = page.locator("tbody tr", has_text="ma_hongxiang")
        expect(row).to_contain_text("已锁定")
        admin.shot("users-locked")
        row.get_by_role("button", name="解锁").click()
        expect(page.locator(".alert-success")).to_contain_text("已解锁账户“马文华”")

    with visitor("inst_operator") as v:
        v.login("ma_hongxiang")
        expect(v.page.locator("h1")).to_have_text("待办事项")


def test_trainee_home_fits_a_phone(live_server, world, visitor):
    with visitor("trainee", viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2) as v:
        page = v.page
        v.login("liming")
        expect(page.locator("h1")).to_have_text("待办事项")
        expect(page.locator(".px-content")).to_contain_text("数据范围：本人")
        assert v.scroll_width() <= PHONE["width"] + 1, f"home is {v.scroll_width()}px wide"
        v.shot("phone-home")

        # The menu folds into an offcanvas behind the ☰ button.
        expect(page.locator("#px-menu")).not_to_be_visible()
        page.get_by_role("button", name="菜单").click()
        expect(page.locator("#px-menu")).to_be_visible()
        assert [label for label in v.menu_labels() if label in SHELL_MENU] == ["待办事项", "人员信息"]
        v.menu_link("人员信息").click()
        expect(page.locator("h1")).to_have_text("人员信息")
        expect(page.locator("tbody tr")).to_have_count(1)
        assert v.scroll_width() <= PHONE["width"] + 1, f"人员信息 is {v.scroll_width()}px wide"
        v.shot("phone-people")

        page.get_by_role("link", name="李明").click()
        expect(page.locator("h1")).to_contain_text("李明")
        page.get_by_role("button", name="查看").click()
        expect(page.locator("#id-number")).to_contain_text(re.compile(r"\d{17}[\dX]"))
        assert v.scroll_width() <= PHONE["width"] + 1, f"人员档案 is {v.scroll_width()}px wide"
        v.shot("phone-person")
