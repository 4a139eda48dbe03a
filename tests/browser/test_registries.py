"""The registries in a real browser: 培训机构 registered, assessed on site (第六条) and listed in the
directory (第二十一条) by a city bureau; the public directory (第五条) before and after a suspension;
imports with row-by-row errors, the teacher pool, evaluation bodies; the public portal's pages; and,
when they exist, the subsidy catalogs (第七条) and the training-needs pool (第五条).

Every step is screenshotted at 1280x800 into var/screenshots/ (the guide pages in docs/guide/ reuse
them) and must log no console error.
"""

import datetime as dt
import io
import struct
import zlib

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from playwright.sync_api import expect

from peixun.catalog.models import Occupation
from peixun.catalog.reference import load_occupations
from peixun.catalog.services import (
    CATALOG_COLUMNS,
    CATALOG_OPTIONAL,
    catalog_create,
    catalog_import_entries,
)
from peixun.core.tabular import read_table
from peixun.demand.models import DemandReport
from peixun.demand.services import announcement_create, announcement_transition, demand_submit
from peixun.institutions.models import Institution
from peixun.institutions.services import (
    assessment_record,
    directory_change,
    evaluation_body_register,
    institution_register,
    teacher_register,
)
from peixun.portal.models import Notice
from peixun.portal.services import notice_publish
from peixun.web.demo import make_uscc
from tests.conftest import area, new_id_number

pytestmark = pytest.mark.browser

NEW_NAME = "呼和浩特市青山职业技能培训学校"
NEW_CODE = make_uscc("52150102MJY00077A")
CONTACT_NAME = "周丽华"
CONTACT_PHONE = "13804711234"
ELDERLY_CARE = "4-10-01-05"  # 养老护理员
HOUSEKEEPING = "4-10-01-06"  # 家政服务员
COOK = "4-03-02-01"  # 中式烹调师
ELECTRICIAN = "6-31-01-03"  # 电工
TEACHER_NAME = "高志远"
POOL_TEACHER_NAME = "乌云其其格"


def resolves(name: str) -> bool:
    try:
        reverse(name)
    except NoReverseMatch:
        return False
    return True


def site_photo(width: int = 160, height: int = 120) -> bytes:
    """A small real PNG (a sky-blue wall above a grey floor) built by hand: Pillow is not installed."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = []
    for y in range(height):
        pixel = bytes((150, 190, 230)) if y < height * 2 // 3 else bytes((120, 120, 120))
        rows.append(b"\x00" + pixel * width)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


# --- data ---------------------------------------------------------------------------------------


def today() -> dt.date:
    return timezone.localdate()


@pytest.fixture
def occupations(reference_data):
    """Browser tests flush the database, the occupation list of the data migration with it."""
    load_occupations(Occupation)


def register(actor, first17, name, area_code, codes, **extra) -> Institution:
    return institution_register(
        code=make_uscc(first17),
        name=name,
        type=Institution.Type.PRIVATE_SCHOOL,
        area=area(area_code),
        actor=actor,
        address=f"{area(area_code).name}{name[-6:-2]}路{len(name)}号",
        licensed_occupation_codes=codes,
        **extra,
    )


def list_in_directory(actor, institution, listed_on) -> Institution:
    assessment_record(
        institution=institution,
        actor=actor,
        assessed_on=listed_on - dt.timedelta(days=10),
        assessors="考察组",
        premises_ok=True,
        equipment_ok=True,
        teachers_ok=True,
    )
    directory_change(
        institution=institution,
        transition="list",
        actor=actor,
        effective_date=listed_on,
        reason="实地考察评估通过",
        decision_no=f"呼人社发〔{listed_on.year}〕6号",
    )
    institution.refresh_from_db()
    return institution


@pytest.fixture
def registry(world, occupations):
    """Two listed schools and one unlisted in 呼和浩特, one listed in 包头, with a teacher, a pool
    teacher and an evaluation body."""
    admin = world.region_admin
    year_ago = today() - dt.timedelta(days=365)
    hongxiang = list_in_directory(
        admin,
        register(
            admin,
            "52150102MJY000011",
            "呼和浩特市鸿翔职业技能培训学校",
            "150102",
            [COOK, ELECTRICIAN, ELDERLY_CARE],
            contact_name="马文华",
            contact_phone="13947100001",
            licence_no="教民115010270001号",
        ),
        year_ago,
    )
    qingcheng = list_in_directory(
        admin,
        register(admin, "52150103MJY000012", "呼和浩特市青城家政职业培训学校", "150103", [HOUSEKEEPING]),
        year_ago + dt.timedelta(days=40),
    )
    unlisted = register(admin, "52150105MJY000014", "呼和浩特市北辰电工培训中心", "150105", [ELECTRICIAN])
    gangcheng = list_in_directory(
        admin,
        register(admin, "52150203MJY000013", "包头市钢城家政服务培训学校", "150203", [HOUSEKEEPING]),
        year_ago,
    )
    teacher_register(
        id_number=new_id_number("150103", dt.date(1979, 8, 21), True, seed=7),
        name=TEACHER_NAME,
        institution=hongxiang,
        qualification="中式烹调师二级/技师",
        actor=admin,
        occupation_codes=[COOK],
        phone="13600001111",
    )
    teacher_register(
        id_number=new_id_number("150102", dt.date(1983, 2, 14), False, seed=8),
        name=POOL_TEACHER_NAME,
        institution=None,
        qualification="养老护理员一级/高级技师",
        actor=admin,
        high_skill_title="MASTER",
        occupation_codes=[ELDERLY_CARE],
        shared_pool_area=area("150100"),
    )
    evaluation_body_register(
        code=make_uscc("12150000MB0000021"),
        name="内蒙古自治区职业技能鉴定指导中心",
        area=area("150102"),
        actor=admin,
        address="呼和浩特市新城区新华大街63号",
        filing_no="内人社评备〔2025〕1号",
        contact_phone="0471-6600001",
        scopes=[(COOK, "5"), (COOK, "4"), (ELECTRICIAN, "5"), (ELDERLY_CARE, "4")],
    )
    return {"hongxiang": hongxiang, "qingcheng": qingcheng, "unlisted": unlisted, "gangcheng": gangcheng}


# --- the directory, end to end ------------------------------------------------------------------


def test_city_admin_registers_assesses_lists_and_suspends(live_server, world, registry, visitor):
    year = today().year
    with visitor("registries") as v:
        page = v.page
        v.login("zhang_hohhot")
        v.menu("培训机构")
        expect(page.locator("h1")).to_have_text("培训机构")
        rows = page.locator("tbody tr")
        expect(rows).to_have_count(3)  # 呼和浩特's three; 包头's is outside the city's scope
        expect(page.locator("tbody")).not_to_contain_text("包头市钢城")
        v.shot("01-list")

        page.get_by_role("link", name="登记机构").click()
        expect(page.locator("h1")).to_have_text("登记培训机构")
        page.fill("#id_code", NEW_CODE)
        page.fill("#id_name", NEW_NAME)
        page.select_option("#id_type", label="民办职业培训学校")
        page.select_option("#id_area", label="呼和浩特市 · 新城区（150102）")
        page.fill("#id_address", "呼和浩特市新城区青山路18号")
        page.fill("#id_licence_no", "教民115010270077号")
        page.fill("#id_licence_valid_to", f"{year + 3}-12-31")
        page.fill("#id_licensed_occupations", f"{ELDERLY_CARE}\n{HOUSEKEEPING}")
        page.fill("#id_premises", "教学楼二层，理论教室2间共160平方米；养老护理实训室80平方米")
        page.fill("#id_equipment", "护理床8张、模拟人4具、多媒体设备2套")
        page.fill("#id_contact_name", CONTACT_NAME)
        page.fill("#id_contact_phone", CONTACT_PHONE)
        v.shot("02-register-form")
        v.submit("登记")

        expect(page.locator(".alert-success")).to_contain_text(f"已登记培训机构“{NEW_NAME}”")
        expect(page.locator("h1")).to_contain_text("未入目录")
        expect(page.locator(".alert-info")).to_contain_text("列入目录前须经实地考察评估")
        expect(page.locator(".alert-info")).to_contain_text("尚无“通过”的考察记录")
        detail_url = page.url
        v.shot("03-detail-needs-assessment")

        # 列入目录 is offered, but its page says an assessment is missing (第六条).
        page.get_by_role("link", name="列入目录").click()
        expect(page.locator(".alert-warning")).to_contain_text("尚无“通过”的实地考察评估")
        expect(page.get_by_role("button", name="确认列入目录")).to_be_disabled()
        v.shot("04-listing-blocked")
        page.locator(".alert-warning").get_by_role("link", name="录入实地考察").click()

        expect(page.locator("h1")).to_contain_text("实地考察评估")
        expect(page.get_by_text("为必填项")).to_have_count(1)
        expect(page.locator("#id_assessed_on")).to_have_value(today().isoformat())
        page.fill("#id_assessors", "张海燕、李强")
        page.check("#id_premises_ok")
        page.check("#id_equipment_ok")
        page.check("#id_teachers_ok")
        page.fill("#id_notes", "场地、设备与申报一致；专职教师3名，均持养老护理员三级以上证书。")
        page.set_input_files(
            "#id_photos", files=[{"name": "实训室.png", "mimeType": "image/png", "buffer": site_photo()}]
        )
        v.shot("05-assess-form")
        v.submit("保存考察记录")

        expect(page.locator(".alert-success")).to_contain_text("结论：通过")
        pane = page.locator("#tab-assessments")
        expect(pane).to_be_visible()
        expect(pane.locator("tbody tr")).to_have_count(1)
        expect(pane.locator("tbody")).to_contain_text("张海燕、李强")
        photo = pane.locator("tbody img")
        expect(photo).to_have_count(1)
        assert photo.evaluate("img => img.complete && img.naturalWidth") == 160  # the photo is served
        expect(page.locator(".alert-info")).to_have_count(0)  # the hint is gone once there is a pass
        v.shot("06-assessment-recorded")

        page.get_by_role("link", name="列入目录").click()
        expect(page.locator("h1")).to_contain_text(f"列入目录：{NEW_NAME}")
        expect(page.locator(".alert-info")).to_contain_text("最近一次“通过”的实地考察")
        expect(page.locator("#id_effective_date")).to_have_value(today().isoformat())
        expect(page.get_by_role("button", name="确认列入目录")).to_be_enabled()
        page.fill("#id_decision_no", f"呼人社发〔{year}〕18号")
        page.fill("#id_reason", "经实地考察评估，培训场地、设施设备和师资力量符合要求，列入培训机构目录")
        v.shot("07-listing-form")
        v.submit("确认列入目录")

        expect(page.locator(".alert-success")).to_contain_text(f"“{NEW_NAME}”已列入目录")
        expect(page.locator("h1 .badge")).to_have_text("已列入目录")
        history = page.locator("#tab-directory .px-timeline li")
        expect(history).to_have_count(1)
        expect(history.first).to_contain_text("已列入目录")
        expect(history.first).to_contain_text(f"呼人社发〔{year}〕18号")
        expect(history.first).to_contain_text("张海燕")
        v.shot("08-listed")

    new = Institution.objects.get(code=NEW_CODE)
    public_path = f"/portal/institutions/{new.pk}/"
    with visitor("registries") as anon:
        page = anon.page
        anon.goto("/portal/institutions/")
        expect(page.locator(".list-group-item")).to_have_count(4)  # listed ones of every city
        page.fill("#id_occupation", "养老护理员")
        page.get_by_role("button", name="查询").click()
        page.wait_for_load_state()
        found = page.locator(".list-group-item")
        expect(found).to_have_count(2)  # 鸿翔 and the new school
        expect(page.locator(".list-group")).to_contain_text(NEW_NAME)
        anon.shot("09-portal-search")

        page.get_by_role("link", name=NEW_NAME).click()
        expect(page.locator("h1")).to_have_text(NEW_NAME)
        expect(page.locator(".px-content, main")).to_contain_text("已列入培训机构目录")
        expect(page.locator("main")).to_contain_text("养老护理员")
        expect(page.locator("main")).to_contain_text(today().isoformat())  # 列入目录日期
        html = page.content()
        for private in (CONTACT_NAME, CONTACT_PHONE, "联系人", "联系电话", "护理床8张", "张海燕"):
            assert private not in html, private
        anon.shot("10-portal-institution")

    with visitor("registries") as v:
        page = v.page
        v.login("zhang_hohhot")
        v.goto(detail_url.removeprefix(live_server.url))
        page.get_by_role("link", name="暂停").click()
        expect(page.locator("h1")).to_contain_text(f"暂停：{NEW_NAME}")
        page.fill("#id_decision_no", f"呼人社发〔{year}〕25号")
        page.fill("#id_reason", "未按规定报送培训过程资料，暂停承接政府补贴性培训，限期整改")
        v.shot("11-suspend-form")
        v.submit("确认暂停")
        expect(page.locator(".alert-success")).to_contain_text("已暂停")
        expect(page.locator("h1 .badge")).to_have_text("暂停")
        expect(page.locator("#tab-directory .px-timeline li")).to_have_count(2)
        # Now 恢复 and 移出目录 are offered, 列入目录 and 暂停 no longer.
        expect(page.get_by_role("link", name="恢复")).to_have_count(1)
        expect(page.get_by_role("link", name="移出目录")).to_have_count(1)
        expect(page.get_by_role("link", name="暂停")).to_have_count(0)
        v.shot("12-suspended")

    with visitor("registries") as anon:
        page = anon.page
        anon.goto("/portal/institutions/?occupation=" + ELDERLY_CARE)
        expect(page.locator(".list-group-item")).to_have_count(1)
        expect(page.locator("main")).not_to_contain_text(NEW_NAME)
        anon.goto("/portal/institutions/?q=青山")
        expect(page.locator(".px-empty")).to_contain_text("没有符合条件的培训机构")
        anon.shot("13-portal-after-suspension")
        assert anon.status_of(public_path) == 404


def test_inspector_records_an_assessment_on_a_phone(live_server, world, registry, visitor):
    """督导 and 审核员 record assessments; only the bureau lists (no directory buttons for them)."""
    unlisted = registry["unlisted"]
    phone = {"width": 390, "height": 844}
    with visitor("registries", viewport=phone, is_mobile=True, has_touch=True, device_scale_factor=2) as v:
        page = v.page
        v.login("sun_inspector")
        v.goto(f"/institutions/{unlisted.pk}/")
        expect(page.get_by_role("link", name="列入目录")).to_have_count(0)
        page.get_by_role("link", name="录入实地考察").first.click()
        expect(page.locator("h1")).to_contain_text("实地考察评估")
        page.fill("#id_assessors", "苏日娜、王刚")
        page.check("#id_premises_ok")
        page.fill("#id_notes", "电工实训设备不足，专职教师仅1名。")
        assert v.page.evaluate("document.scrollingElement.scrollWidth") <= phone["width"] + 1
        v.shot("14-inspector-phone-assess", full_page=True)
        v.submit("保存考察记录")
        expect(page.locator(".alert-warning")).to_contain_text("结论：不通过")
        expect(page.locator("#tab-assessments tbody")).to_contain_text("不通过")
        expect(page.locator("#tab-assessments tbody")).to_contain_text("不符合")


def test_imports_teachers_and_evaluation_bodies(live_server, world, registry, visitor):
    bad_csv = "\n".join(
        [
            ",".join(
                ("institution_code", "name", "type", "area_code", "address", "licensed_occupations", "listed")
            ),
            f"{make_uscc('52150104MJY000031')},呼和浩特市玉泉技工培训学校,TECHNICAL_SCHOOL,150104,"
            f"玉泉区南二环路1号,{COOK},N",
            "52150104MJY00003,呼和浩特市南湖职业培训学校,PRIVATE_SCHOOL,150104,,4-10-01-05,N",
            f"{make_uscc('52150104MJY000033')},呼和浩特市昭君培训学校,学校,150104,,{HOUSEKEEPING},N",
            f"{make_uscc('52150203MJY000034')},包头市稀土职业培训学校,PRIVATE_SCHOOL,150203,,{ELECTRICIAN},N",
            f"{make_uscc('52150104MJY000035')},呼和浩特市敕勒川培训学校,PRIVATE_SCHOOL,150104,,9-99-99-99,N",
        ]
    )
    good_csv = "\n".join(bad_csv.splitlines()[:2]) + "\n"
    with visitor("registries") as v:
        page = v.page
        v.login("zhang_hohhot")
        v.menu("培训机构")
        page.get_by_role("link", name="导入").click()
        expect(page.locator("h1")).to_have_text("导入培训机构和教师")
        page.set_input_files(
            "#id_file",
            files=[{"name": "institutions.csv", "mimeType": "text/csv", "buffer": bad_csv.encode()}],
        )
        v.submit("上传并导入")
        expect(page.locator(".alert-danger")).to_contain_text("整个文件未导入")
        errors = page.locator("table tbody tr")
        expect(errors).to_have_count(4)
        body = page.locator("table tbody")
        expect(body).to_contain_text("第3行")
        expect(body).to_contain_text("统一社会信用代码应为18位")
        expect(body).to_contain_text("机构类型“学校”无效")
        expect(body).to_contain_text("不在您的管辖范围内")
        expect(body).to_contain_text("9-99-99-99")
        assert not Institution.objects.filter(name="呼和浩特市玉泉技工培训学校").exists()
        v.shot("15-import-errors")

        page.set_input_files(
            "#id_file",
            files=[{"name": "institutions.csv", "mimeType": "text/csv", "buffer": good_csv.encode()}],
        )
        v.submit("上传并导入")
        expect(page.locator(".alert-success")).to_contain_text("新登记1个机构")
        v.shot("16-import-done")

        v.menu("师资库")
        expect(page.locator("h1")).to_have_text("师资库")
        expect(page.locator("tbody tr")).to_have_count(2)
        teacher_row = page.locator("tbody tr", has_text=TEACHER_NAME)
        expect(teacher_row).to_contain_text("150103********")
        teacher_row.get_by_role("button", name="列入呼和浩特市共享库").click()
        page.wait_for_load_state()
        expect(page.locator(".alert-success")).to_contain_text(
            f"已将“{TEACHER_NAME}”列入呼和浩特市共享师资库"
        )
        page.check("#f-pool")
        page.get_by_role("button", name="查询").click()
        page.wait_for_load_state()
        expect(page.locator("tbody tr")).to_have_count(2)
        v.shot("17-teacher-pool")

        v.menu("评价机构")
        expect(page.locator("tbody")).to_contain_text("内蒙古自治区职业技能鉴定指导中心")
        expect(page.locator("tbody")).to_contain_text("中式烹调师：")
        expect(page.locator("tbody")).to_contain_text("五级/初级工")
        expect(page.get_by_role("link", name="登记评价机构", exact=True)).to_have_count(
            0
        )  # the region's to register
        v.shot("18-evaluation-bodies")

    # 培训机构经办人: only its own institution, and only the descriptive fields.
    operator = world.inst_a_operator
    operator.organisation = registry["hongxiang"].organisation
    operator.save(update_fields=["organisation"])
    with visitor("registries") as v:
        page = v.page
        v.login("ma_hongxiang")
        v.menu("培训机构")
        expect(page.locator("tbody tr")).to_have_count(1)
        page.get_by_role("link", name="呼和浩特市鸿翔职业技能培训学校").click()
        expect(page.get_by_role("link", name="暂停")).to_have_count(0)
        expect(page.get_by_role("link", name="录入实地考察")).to_have_count(0)
        page.get_by_role("link", name="修改信息").click()
        expect(page.locator("#id_name")).to_have_count(0)
        expect(page.locator("#id_licensed_occupations")).to_have_count(0)
        expect(page.locator("#id_contact_phone")).to_have_count(1)
        expect(page.locator("main, .px-content").first).not_to_contain_text("为必填项")  # nothing is required
        v.shot("19-operator-edit")


# --- the public portal --------------------------------------------------------------------------


@pytest.fixture
def portal_data(world, registry):
    admin = world.region_admin
    for institution, code, title, days in (
        (registry["hongxiang"], COOK, "中式烹调师（五级）就业技能培训班", 9),
        (registry["hongxiang"], ELDERLY_CARE, "养老护理员（五级）就业技能培训班", 16),
        (registry["qingcheng"], HOUSEKEEPING, "家政服务员（五级）培训班", 23),
        (registry["gangcheng"], HOUSEKEEPING, "家政服务员（五级）订单式培训班", 12),
    ):
        start = today() + dt.timedelta(days=days)
        announcement = announcement_create(
            institution=institution,
            actor=admin,
            title=title,
            occupation_code=code,
            level="5",
            start_date=start,
            end_date=start + dt.timedelta(days=20),
            place=f"{institution.address}实训楼",
            capacity=40,
            contact_phone="0471-6912345",
            employment_destination="本地餐饮、养老和家政服务企业",
        )
        announcement_transition(announcement=announcement, action="publish", actor=admin)
    notice_publish(
        category=Notice.Category.POLICY,
        title="内蒙古自治区职业技能培训管理办法",
        body="第一条 为规范职业技能培训管理……",
        area=area("150000"),
        actor=admin,
        published_on=today() - dt.timedelta(days=30),
        document_no="内人社发〔2026〕1号",
    )
    notice_publish(
        category=Notice.Category.NOTICE,
        title="关于公布呼和浩特市培训机构目录（第一批）的通知",
        body="经实地考察评估，以下培训机构列入目录……",
        area=area("150100"),
        actor=world.hohhot_admin,
        published_on=today() - dt.timedelta(days=3),
    )


def test_public_portal_shows_no_person(live_server, world, registry, portal_data, visitor):
    private = (
        TEACHER_NAME,
        POOL_TEACHER_NAME,
        "马文华",
        "13947100001",
        "13600001111",
        "王建国",
        "张海燕",
    )

    with visitor("portal") as v:
        page = v.page

        def public(path: str, shot: str, heading: str):
            v.goto(path)
            expect(page.locator("h1").first).to_contain_text(heading)
            html = page.content()
            for text in private:
                assert text not in html, f"{path}: {text}"
            v.shot(shot)

        public("/portal/", "01-home", "政府补贴性职业技能培训")
        expect(page.locator("main")).to_contain_text("目录内培训机构")
        public("/portal/institutions/", "02-institutions", "培训机构目录")
        expect(page.locator(".list-group-item")).to_have_count(3)
        expect(page.locator("main")).not_to_contain_text("北辰电工")  # never listed
        public(f"/portal/institutions/{registry['hongxiang'].pk}/", "03-institution", "鸿翔")
        expect(page.locator("main")).to_contain_text("中式烹调师（五级）就业技能培训班")
        public("/portal/classes/", "04-classes", "开班信息")
        expect(page.locator("main")).to_contain_text("0471-6912345")  # the class's registration phone
        public("/portal/evaluation-bodies/", "05-evaluation-bodies", "职业技能评价机构")
        expect(page.locator("main")).to_contain_text("内蒙古自治区职业技能鉴定指导中心")
        public("/portal/survey/", "06-survey", "培训需求登记")
        public("/portal/notices/", "07-notices", "政策通知")
        expect(page.locator("main")).to_contain_text("呼和浩特市人社局")  # the office, not the official
        assert v.status_of(f"/portal/institutions/{registry['unlisted'].pk}/") == 404

    with visitor("portal") as v:
        v.login("zhang_hohhot")
        v.menu("政策通知管理")
        expect(v.page.locator("h1")).to_have_text("政策通知管理")
        v.shot("08-notice-manage")


# --- the subsidy catalogs and the training-needs pool (when those pages exist) -----------------


def test_catalog_pages(live_server, world, occupations, visitor):
    if not resolves("catalog:list"):
        pytest.skip("catalog pages are not there yet")

    def entries(catalog, *rows):
        text = "occupation_code,level,training_type,subsidy_amount,min_hours\n" + "\n".join(rows) + "\n"
        table = read_table(
            io.BytesIO(text.encode()),
            filename="catalog_entries.csv",
            required=CATALOG_COLUMNS,
            optional=CATALOG_OPTIONAL,
        )
        catalog_import_entries(catalog=catalog, table=table, actor=None)

    admin = world.region_admin
    this_year = dt.date(today().year, 1, 1)
    old = catalog_create(
        area=area("150000"),
        title=f"内蒙古自治区职业技能培训补贴目录（{this_year.year - 1}年版）",
        valid_from=dt.date(this_year.year - 1, 1, 1),
        document_no=f"内人社发〔{this_year.year - 1}〕3号",
        actor=admin,
    )
    entries(old, f"{HOUSEKEEPING},5,EMPLOYMENT,1200,80", f"{COOK},5,EMPLOYMENT,1300,96")
    current = catalog_create(
        area=area("150000"),
        title=f"内蒙古自治区职业技能培训补贴目录（{this_year.year}年版）",
        valid_from=this_year,
        document_no=f"内人社发〔{this_year.year}〕5号",
        actor=admin,
    )
    entries(
        current,
        f"{HOUSEKEEPING},5,EMPLOYMENT,1500,96",
        f"{HOUSEKEEPING},4,UPGRADE,1800,120",
        f"{COOK},5,EMPLOYMENT,1500,96",
        f"{ELDERLY_CARE},5,EMPLOYMENT,1600,120",
        f"{ELECTRICIAN},5,EMPLOYMENT,1400,96",
    )
    city = catalog_create(
        area=area("150100"),
        title=f"呼和浩特市职业技能培训补贴目录（{this_year.year}年版）",
        valid_from=this_year,
        document_no=f"呼人社发〔{this_year.year}〕9号",
        actor=world.hohhot_admin,
    )
    entries(city, f"{HOUSEKEEPING},5,EMPLOYMENT,1700,96")

    with visitor("catalog") as v:
        page = v.page
        v.login("wang_region")
        v.goto("/catalog/")
        expect(page.locator("h1")).to_have_text("职业技能培训补贴目录")
        expect(page.locator(".badge", has_text="现行")).to_have_count(2)
        expect(page.locator(".badge", has_text="已失效")).to_have_count(1)
        v.shot("01-list")

        page.select_option("#id_lk-area", value=str(area("150102").pk))
        page.fill("#id_lk-occupation", HOUSEKEEPING)
        page.get_by_role("button", name="查询").last.click()
        page.wait_for_load_state()
        result = page.locator("#lookup-result")
        expect(result).to_contain_text("¥1,700.00")  # the city's standard before the region's
        expect(result).to_contain_text("盟市标准")
        v.shot("02-lookup", scroll_to="#lookup-result")

        page.get_by_role("link", name=current.title).first.click()
        expect(page.locator("h1")).to_contain_text(current.title)
        expect(page.locator("tbody tr")).to_have_count(5)
        v.shot("03-detail")

        bad = "occupation_code,level,training_type,subsidy_amount,min_hours\n" + (
            f"{HOUSEKEEPING},初级,EMPLOYMENT,1500,96\n9-99-99-99,5,EMPLOYMENT,1500,96\n{COOK},5,培训,-1,96\n"
        )
        page.set_input_files(
            "#import input[type=file]",
            files=[{"name": "catalog_entries.csv", "mimeType": "text/csv", "buffer": bad.encode()}],
        )
        page.locator("#import").get_by_role("button", name="导入").click()
        page.wait_for_load_state()
        expect(page.locator("#import-errors")).to_contain_text("未写入任何数据")
        # The catalog import answers its error page with 422, which Chromium logs as a failed
        # resource; the page itself is fine (the institutions import answers 200).
        v.errors = [e for e in v.errors if not ("/import/" in e and "status of 422" in e)]
        v.shot("04-import-errors", scroll_to="#import-errors")

        v.goto("/catalog/new/")
        expect(page.locator("h1")).to_have_text("新建目录版本")
        v.shot("05-create")


def test_demand_pages(live_server, world, registry, portal_data, visitor):
    if not resolves("demand:pool"):
        pytest.skip("demand pages are not there yet")
    for area_code, occupation, kind, headcount, name in (
        ("150102", HOUSEKEEPING, DemandReport.Kind.ENTERPRISE, 30, "呼和浩特市安居家政服务有限公司"),
        ("150103", HOUSEKEEPING, DemandReport.Kind.WORKER, 1, ""),
        ("150105", HOUSEKEEPING, DemandReport.Kind.WORKER, 1, ""),
        ("150102", ELDERLY_CARE, DemandReport.Kind.ENTERPRISE, 20, "呼和浩特市康乐养老院"),
        ("150104", "6-18-02-04", DemandReport.Kind.ENTERPRISE, 15, "呼和浩特市金桥装备制造有限公司"),
        ("150203", HOUSEKEEPING, DemandReport.Kind.WORKER, 1, ""),
    ):
        demand_submit(
            kind=kind,
            channel=DemandReport.Channel.PUBLIC_FORM,
            area=area(area_code),
            occupation_code=occupation,
            level="5",
            headcount=headcount,
            enterprise_name=name,
            contact_name="联系人",
            contact_phone="13900000000",
        )

    with visitor("demand") as v:
        page = v.page
        v.login("zhang_hohhot")
        v.goto("/demand/")
        expect(page.locator("h1")).to_have_text("培训需求资源库")
        expect(page.locator("tbody")).not_to_contain_text("包头")  # the city sees its own
        v.shot("01-pool")

        row = page.locator("tbody tr", has_text="家政服务员")
        row.locator("a.badge").click()
        page.wait_for_load_state()
        expect(page.locator("h1")).to_contain_text("可承接的培训机构")
        expect(page.locator("main, .px-content").first).to_contain_text("呼和浩特市青城家政职业培训学校")
        v.shot("02-match")

        v.goto("/demand/reports/")
        expect(page.locator("h1")).to_have_text("培训需求明细")
        v.shot("03-reports")

        v.goto("/demand/announcements/")
        expect(page.locator("h1")).to_contain_text("开班公告")
        v.shot("04-announcements")

    # 培训机构经办人: a draft, then 发布 (after a confirmation) puts it on the portal.
    operator = world.inst_a_operator
    operator.organisation = registry["hongxiang"].organisation
    operator.save(update_fields=["organisation"])
    start = today() + dt.timedelta(days=30)
    with visitor("demand") as v:
        page = v.page
        page.on("dialog", lambda dialog: dialog.accept())
        v.login("ma_hongxiang")
        v.menu("开班公告")
        expect(page.locator("h1")).to_contain_text("开班公告")
        page.get_by_role("link", name="新建").first.click()
        expect(page.locator("h1")).to_contain_text("新建开班公告")
        page.fill("#id_title", "养老护理员（四级）岗位技能提升培训班")
        page.select_option("#id_occupation", label=f"{ELDERLY_CARE} 养老护理员")
        page.select_option("#id_level", value="4")
        page.fill("#id_capacity", "30")
        page.fill("#id_start_date", start.isoformat())
        page.fill("#id_end_date", (start + dt.timedelta(days=15)).isoformat())
        page.fill("#id_place", "新城区技能培训路15号实训楼三层")
        page.fill("#id_contact_phone", "0471-6912346")
        page.fill("#id_employment_destination", "呼和浩特市康乐养老院等定点养老机构")
        v.shot("05-announcement-form")
        v.submit("保存草稿")
        expect(page.locator(".alert-success")).to_contain_text("已保存草稿")
        row = page.locator("tbody tr", has_text="养老护理员（四级）岗位技能提升培训班")
        expect(row).to_contain_text("草稿")
        row.get_by_role("button", name="发布").click()
        page.wait_for_load_state()
        expect(page.locator(".alert-success")).to_contain_text("已发布")
        v.shot("06-announcement-published")
    with visitor("demand") as anon:
        anon.goto("/portal/classes/")
        expect(anon.page.locator("main")).to_contain_text("养老护理员（四级）岗位技能提升培训班")
