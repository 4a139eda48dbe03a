"""双随机一公开 and what follows, in a real browser (第二十一条、第二十二条).

呼和浩特's admin 张海燕 creates a draw of the city's listed institutions at the default 5% (the seed's
hash is on the public page before anything is drawn) and draws once. The inspector sent to the drawn
institution finds the task on a phone (390x844), records the 第二十一条 checklist with a photo: the
roster names people nobody at the site knows — a violation. 张海燕 opens the case from the inspection,
removes the institution from the directory (it can no longer apply to open classes) and publishes the
result. Anyone then sees on the portal the institution, the date, the items checked and the outcome,
and on the draw's page the revealed seed and the recomputation that agrees.

Screenshots: var/screenshots/supervision-*.png (docs/guide/监督检查.md reuses some).
"""

import datetime as dt

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from peixun.catalog.models import Occupation
from peixun.catalog.reference import load_occupations
from peixun.institutions.models import Institution
from peixun.supervision.models import Draw, Inspection, Violation
from tests.factories import Clock
from tests.test_supervision import TODAY, Sup, listed

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def occupations(reference_data):
    load_occupations(Occupation)


@pytest.fixture
def clock(monkeypatch):
    c = Clock(monkeypatch)
    c.travel(TODAY, 9)
    return c


@pytest.fixture
def sup(world, occupations, clock, media):
    s = Sup(world, clock)
    for n, (name, area) in enumerate(
        [
            ("呼和浩特市金桥家政职业培训学校", "150105"),
            ("呼和浩特市盛乐烹饪职业培训学校", "150104"),
            ("呼和浩特市北垣电子商务培训中心", "150102"),
        ]
    ):
        listed(name, area, f"52{area}MJY3{n:05d}"[:17])
    return s


def site_photo(path):
    """A real JPEG (the page shows it back as a thumbnail)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (480, 360), (225, 230, 235))
    ImageDraw.Draw(image).rectangle((30, 30, 450, 120), fill=(46, 92, 62))
    image.save(path, format="JPEG", quality=70)


def submit_and_wait(visit, locator):
    with visit.page.expect_navigation():
        locator.click()
    visit.page.wait_for_load_state()


def test_a_draw_an_inspection_on_a_phone_a_sanction_and_the_public_result(
    live_server, visitor, sup, tmp_path
):
    admin = sup.admin

    # --- 1. the city admin creates the draw: pools frozen, seed hash published --------------------------
    with visitor("supervision") as visit:
        visit.login(admin.username)
        visit.goto(reverse("supervision:home"))
        visit.click("link", "新建双随机抽查")
        expect(visit.page.locator("h1")).to_contain_text("新建双随机抽查")
        visit.page.fill("#id_title", "2026年第四季度培训机构双随机抽查")
        expect(visit.page.locator("#id_sample_share")).to_have_value("5")
        visit.shot("01-draw-create")
        submit_and_wait(visit, visit.page.get_by_role("button", name="冻结抽取池并公布种子哈希"))
        draw = Draw.objects.get()
        expect(visit.page.locator(".alert-success")).to_contain_text("种子哈希")
        expect(visit.page.locator("#seed-hash")).to_have_text(draw.seed_sha256)
        assert draw.seed not in visit.page.content()
        visit.shot("02-draw-committed")
        public = visit.page.request.get(
            live_server.url + reverse("supervision:public_draw", args=[draw.pk])
        ).text()
        assert draw.seed_sha256 in public and draw.seed not in public

        submit_and_wait(visit, visit.page.locator('#moves [data-move="execute"]'))
        expect(visit.page.locator(".alert-success")).to_contain_text("已抽取")
        expect(visit.page.locator("#draw-targets tbody tr")).to_have_count(1)  # 5% of 5, rounded up
        expect(visit.page.locator("#moves [data-move='execute']")).to_have_count(0)  # never twice
        visit.shot("03-draw-drawn")
    draw.refresh_from_db()
    assert draw.status == Draw.Status.DRAWN and draw.pool_targets == 5
    inspection = Inspection.objects.get(draw_target__draw=draw)
    target = inspection.institution
    inspector = sup.assigned_user(inspection)

    # --- 2. the inspector on a phone: the task, the checklist, a photo --------------------------------
    photo = tmp_path / "实训室.jpg"
    site_photo(photo)
    with visitor("supervision", viewport=PHONE, is_mobile=True, has_touch=True) as visit:
        visit.login(inspector.username)
        visit.goto("/")
        task = visit.page.locator("tr", has_text=target.name)
        expect(task).to_contain_text("双随机抽查")
        submit_and_wait(visit, task.get_by_role("link").first)
        expect(visit.page.locator("h1")).to_contain_text(target.name)
        assert visit.scroll_width() <= PHONE["width"]
        visit.shot("04-phone-task")
        visit.click("link", "录入检查结果")
        visit.page.fill("#id_trainees_present", "6")
        for label in ("培训对象报名资格", "培训计划落实", "授课师资资格", "教学场地", "设施设备", "实训安全"):
            item = visit.page.locator("li", has=visit.page.get_by_text(label, exact=True))
            answer = "不符合" if label == "培训对象报名资格" else "符合"
            item.locator("label", has_text=answer).first.click()
        visit.page.fill("#id_note_ELIGIBILITY", "花名册18人，现场6人；3名花名册学员经电话核实称从未报名")
        visit.page.fill("#id_summary", "现场实到6人，与签到记录（18人）不符；教学场地、设备与备案一致。")
        visit.page.locator("label", has_text="发现违规，移交立案处理").click()
        visit.page.set_input_files("#id_photos", str(photo))
        assert visit.scroll_width() <= PHONE["width"]
        visit.shot("05-phone-record", full_page=True)
        submit_and_wait(visit, visit.page.get_by_role("button", name="提交检查结果"))
        expect(visit.page.locator(".alert-success")).to_contain_text("发现违规")
        expect(visit.page.locator("#checklist")).to_contain_text("不符合")
        expect(visit.page.locator("#photos img")).to_have_count(1)
        visit.shot("06-phone-recorded")
    inspection.refresh_from_db()
    assert (
        inspection.status == Inspection.Status.FOLLOW_UP
        and inspection.outcome == Inspection.Outcome.VIOLATION
    )

    # --- 3. the case, the sanction, the result published ------------------------------------------------
    with visitor("supervision") as visit:
        visit.login(admin.username)
        visit.goto(reverse("supervision:inspection_detail", args=[inspection.pk]))
        visit.click("link", "据此立案")
        visit.page.select_option("#id_type", "FALSE_ROSTER")
        visit.page.fill("#id_responsible_name", "赵立新")
        visit.page.fill("#id_responsible_role", "法定代表人")
        submit_and_wait(visit, visit.page.get_by_role("button", name="立案"))
        expect(visit.page.locator(".alert-success")).to_contain_text("已立案")
        violation = Violation.objects.get()
        visit.click("link", "决定处理措施")
        visit.page.locator("#ladder-choice label", has_text="移出目录").click()
        visit.page.fill("#id_document_no", "呼人社发〔2026〕52号")
        visit.page.fill("#id_content", "利用虚假参训人员名单申领补贴，移出政府补贴性培训机构目录。")
        visit.shot("07-sanction-form", full_page=True)
        submit_and_wait(visit, visit.page.get_by_role("button", name="确认决定"))
        expect(visit.page.locator(".alert-success")).to_contain_text("移出目录")
        expect(visit.page.locator("#ladder")).to_contain_text("移出目录")
        visit.shot("08-violation")

        visit.goto(reverse("supervision:inspection_detail", args=[inspection.pk]))
        submit_and_wait(visit, visit.page.locator('#moves [data-move="publish"]'))
        expect(visit.page.locator(".alert-success")).to_contain_text("已在公共服务门户公开")
        visit.page.locator('#moves [data-move="close"]').click()
        visit.page.fill("#close-note", f"已立案{violation.code}，机构已移出目录。")
        submit_and_wait(visit, visit.page.get_by_role("button", name="确认办结"))
        expect(visit.page.locator("h1 ~ div .badge").first).to_contain_text("已办结")
    target.refresh_from_db()
    assert target.status == Institution.Status.REMOVED

    # --- 4. the public portal: the result and the verifiable draw ----------------------------------------
    with visitor("supervision") as visit:
        visit.goto(reverse("portal:home"))
        nav = visit.page.locator("#portal-nav")
        # the full name on phones and wide screens; "抽查结果" where the bar would otherwise wrap
        expect(nav.locator(f'a[href="{reverse("supervision:public_draws")}"]')).to_have_attribute(
            "title", "双随机抽查结果"
        )
        assert {
            round(box["height"])
            for box in nav.locator(".nav-link").evaluate_all("l => l.map(e => e.getBoundingClientRect())")
        } == {37}
        nav.locator(f'a[href="{reverse("supervision:public_draws")}"]').click()
        visit.page.wait_for_load_state()
        result = visit.page.locator(".list-group-item", has_text=target.name).first
        expect(result).to_contain_text("2026-11-02")
        expect(result).to_contain_text("培训对象报名资格（不符合）")
        expect(result).to_contain_text("发现违规，移交立案处理")
        visit.shot("09-public-results")
        visit.page.locator("#public-draws a", has_text=draw.title).click()
        visit.page.wait_for_load_state()
        expect(visit.page.locator("#public-seed")).to_have_text(draw.seed)
        expect(visit.page.locator("#verified")).to_contain_text("抽取结果一致")
        expect(visit.page.locator("#public-targets")).to_contain_text(target.name)
        visit.shot("10-public-draw")
    assert dt.date(2026, 11, 2) == TODAY
