"""数据交换 and 问题线索 in a real browser.

(a) The region admin uploads a data package (the multi-file input), a 公安死亡信息 file naming a
    trainee who died before the class started, a 医保住院信息 file with a stay covering a day the
    other trainee checked in, runs the province-wide check, and uploads a broken classes.csv that
    fails whole with its rows listed.
(b) The 新城区 reviewer re-runs the class's check, opens the findings with their evidence beside the
    registry rows, dismisses one with a reason, confirms another with a consequence, and sees the
    statuses and the event timeline.
(c) The 回民区 reviewer gets 404 for that finding and that class; the institution's operator sees
    its class's findings and the decisions, read-only.

Without a Celery broker, jobs run in-process during the request. Every step is screenshotted at
1280x800 into var/screenshots/ (docs/guide/findings-and-exchange.md reuses them) and must log no
console error.
"""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from peixun.catalog.models import Occupation
from peixun.catalog.reference import load_occupations
from peixun.checks.models import Finding
from peixun.core.models import Job
from peixun.institutions.models import Institution
from peixun.training.models import TrainingClass
from tests.test_exchange import INST, TRAINEE_A, TRAINEE_B, package, write

pytestmark = pytest.mark.browser

CLASS_CODE = "C2026001"  # the class of tests.test_exchange.package: 2026-03-02 to 2026-03-03
DEATH_DATE = "2026-02-20"  # before the class start: DECEASED
HOSPITAL = "内蒙古医科大学附属医院"
PACKAGE_FILES = (
    "institutions.csv",
    "teachers.csv",
    "classes.csv",
    "lessons.csv",
    "enrollments.csv",
    "attendance.csv",
    "online_sessions.csv",
    "exams.csv",
)


@pytest.fixture
def media(settings, tmp_path):
    """Uploads go to a temporary MEDIA_ROOT (the live server runs in this process: same settings)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def occupations(reference_data):
    """Browser tests flush the database, the occupation list of the data migration with it."""
    load_occupations(Occupation)


def files_of(directory: Path, *names: str) -> list[Path]:
    return [directory / name for name in names]


def expect_job(page, status: str):
    expect(page.locator("h1")).to_be_visible()
    expect(page.locator("#job-progress .badge")).to_have_text(status)


def test_imports_findings_and_decisions(live_server, world, occupations, media, tmp_path, visitor):
    (tmp_path / "package").mkdir()
    pkg = package(tmp_path / "package")
    registries = tmp_path / "registries"
    registries.mkdir()
    death = write(registries, "death.csv", [dict(id_number=TRAINEE_A, name="陈静", death_date=DEATH_DATE)])
    hospital = write(
        registries,
        "hospitalization.csv",
        [
            dict(
                id_number=TRAINEE_B,
                name="李明",
                hospital=HOSPITAL,
                admit_date="2026-03-01",
                discharge_date="2026-03-06",
            )
        ],
    )
    broken = tmp_path / "broken"
    broken.mkdir()
    write(
        broken,
        "classes.csv",
        [
            dict(
                class_code="C2026002",
                institution_code=INST,
                area_code="150102",
                occupation_code="4-10-01-06",
                occupation_name="家政服务员",
                level="5",
                training_type="HOBBY",
                start_date="2026-04-10",
                end_date="2026-04-01",
                total_hours="八十",
                online_hours="0",
                site_address="新华大街1号",
                site_lat="40.81",
                site_lon="111.66",
            )
        ],
    )

    # --- (a) the region admin: 数据交换 ------------------------------------------------------------
    with visitor("exchange") as v:
        page = v.page
        v.login("wang_region")
        v.menu("数据交换")
        expect(page.locator("body")).to_contain_text("外部数据快照")
        v.shot("01-home")

        page.set_input_files("#id_package-files", files_of(pkg, *PACKAGE_FILES))
        v.click("button", "上传并导入", within=page.locator("form", has=page.locator("#id_package-files")))
        expect(page.locator("h1")).to_have_text("导入数据包")
        expect_job(page, "已完成")
        results = page.locator("table.px-table tbody")
        for name, rows in (("classes.csv", "1"), ("lessons.csv", "2"), ("enrollments.csv", "2")):
            expect(results.locator("tr", has_text=name).locator("td").nth(1)).to_have_text(rows)
        v.shot("02-package-done")
        klass = TrainingClass.objects.get(code=CLASS_CODE)

        for kind, label, path in (
            ("death", "公安死亡信息", death),
            ("hospitalization", "医保住院信息", hospital),
        ):
            v.menu("数据交换")
            page.select_option("#id_registry-kind", kind)
            page.set_input_files("#id_registry-file", path)
            if kind == "death":
                v.shot("03-registry-form", scroll_to="#id_registry-file")
            v.click("button", "上传并替换")
            expect(page.locator("h1")).to_have_text(f"导入{label}")
            expect_job(page, "已完成")
            expect(page.locator("table.px-table")).to_contain_text("1")
            if kind == "death":
                v.shot("04-registry-done")

        v.menu("数据交换")
        snapshots = page.locator("table.px-table").first
        expect(snapshots.locator("tr", has_text="公安死亡信息")).to_contain_text("death.csv")
        expect(snapshots.locator("tr", has_text="医保住院信息")).to_contain_text("hospitalization.csv")
        expect(snapshots.locator("tr", has_text="财政供养信息")).to_contain_text("尚未导入")
        v.shot("05-snapshots", scroll_to="h2:has-text('外部数据快照')")

        v.click("button", "运行核查")
        expect(page.locator("h1")).to_have_text("全省实名核查")
        expect_job(page, "已完成")
        v.shot("06-crosscheck-done")
        assert Finding.objects.filter(training_class=klass, rule_code="DECEASED").exists()

        v.menu("数据交换")
        page.set_input_files("#id_package-files", files_of(broken, "classes.csv"))
        v.click("button", "上传并导入", within=page.locator("form", has=page.locator("#id_package-files")))
        expect_job(page, "失败")
        expect(page.locator(".alert-danger")).to_contain_text("未写入任何数据")
        errors = page.locator("table.px-table tbody")
        expect(errors).to_contain_text("classes.csv:2: training_type")
        expect(errors).to_contain_text("classes.csv:2: total_hours")
        expect(page.get_by_role("link", name="修正文件后重新上传")).to_be_visible()
        v.shot("07-package-failed")
        assert not TrainingClass.objects.filter(code="C2026002").exists()
        assert Job.objects.filter(status=Job.Status.FAILED).count() == 1

        v.menu("数据交换")
        jobs = page.locator("table.px-table").last
        expect(jobs.locator("tbody tr")).to_have_count(5)
        v.shot("08-jobs", scroll_to="h2:has-text('我的任务')")

    # --- (b) the 新城区 reviewer: the class's findings, evidence, decisions ------------------------
    with visitor("findings") as v:
        page = v.page
        v.login("zhao_xincheng")
        v.menu("问题线索")
        listing = page.locator("table.px-table tbody")
        expect(listing.locator("tr", has_text="已死亡人员")).to_have_count(1)
        expect(listing.locator("tr", has_text="住院期间有考勤")).to_have_count(1)
        v.shot("01-list")

        page.select_option("#f-severity", "BLOCK")
        v.click("button", "查询")
        expect(listing.locator("tr", has_text="需复核")).to_have_count(0)
        v.shot("02-list-filtered")

        listing.locator("a", has_text=CLASS_CODE).first.click()
        page.wait_for_load_state()
        expect(page.locator("h1")).to_contain_text(CLASS_CODE)
        v.click("button", "重新核查本班")
        expect(page.locator(".alert-success")).to_contain_text("本班核查完成")
        current = page.locator("table.px-table").first.locator("tbody")
        deceased_row = current.locator("tr", has_text="已死亡人员")
        expect(deceased_row).to_contain_text(DEATH_DATE)
        expect(deceased_row).to_contain_text("待处理")
        hospital_row = current.locator("tr", has_text="住院期间有考勤")
        expect(hospital_row).to_contain_text("待处理")
        assert current.locator("tr").count() >= 2
        v.shot("03-class")

        # 住院期间有考勤: the attendance and the hospital stay side by side → 排除 with a reason
        hospital_row.get_by_role("link", name="核实处理").click()
        page.wait_for_load_state()
        expect(page.locator("h1")).to_contain_text("住院期间有考勤")
        registry_card = page.locator(".card", has_text="外部数据比对").last
        expect(registry_card).to_contain_text("医保住院信息")
        expect(registry_card).to_contain_text(HOSPITAL)
        expect(registry_card).to_contain_text("2026-03-01")
        expect(page.locator(".card", has_text="该学员在本班的考勤记录")).to_contain_text("住院期间")
        v.shot("04-hospital-evidence")
        page.check("input[name=action][value=dismiss]")
        page.fill(
            "#id_reason",
            "经向医院核实，该住院登记系家属误用学员的医保卡，学员本人当日在班，有授课教师和同班学员证明。",
        )
        # the button says what it will do (peixun/static/peixun/findings.js)
        expect(page.locator("#decision-submit")).to_have_text(re.compile("排除该问题线索"))
        expect(page.locator("#consequence-wrap")).to_be_hidden()
        v.shot("05-dismiss-form", scroll_to="#finding-decision")
        page.locator("#decision-submit").click()
        page.wait_for_load_state()
        expect(page.locator(".alert-success")).to_contain_text("已排除该问题线索")
        expect(page.locator("#decide")).to_contain_text("已排除")
        timeline = page.locator(".px-timeline").last
        expect(timeline).to_contain_text("发现")
        expect(timeline).to_contain_text("排除")
        expect(timeline).to_contain_text("赵晓东")
        v.shot("06-dismissed", scroll_to="#decide")

        # 已死亡人员: the death date beside the class start → 确认 with 学员移出本班
        v.click("link", "本班全部问题线索")
        current.locator("tr", has_text="已死亡人员").get_by_role("link", name="核实处理").click()
        page.wait_for_load_state()
        expect(page.locator("h1")).to_contain_text("已死亡人员")
        expect(page.locator(".card", has_text="证据").first).to_contain_text(DEATH_DATE)
        registry_card = page.locator(".card", has_text="外部数据比对").last
        expect(registry_card).to_contain_text("公安死亡信息")
        expect(registry_card).to_contain_text("死亡日期")
        expect(registry_card).to_contain_text(DEATH_DATE)
        expect(registry_card).to_contain_text("早于开班日期")
        v.shot("07-deceased-evidence")
        page.check("input[name=action][value=confirm]")
        page.select_option("#id_consequence", "REMOVE_TRAINEE")
        page.fill("#id_reason", "公安死亡信息核实无误，该学员开班前已死亡，花名册信息系冒用。")
        expect(page.locator("#decision-submit")).to_have_text(re.compile("确认问题属实"))
        page.locator("#decision-submit").click()
        page.wait_for_load_state()
        expect(page.locator(".alert-success")).to_contain_text("处理结果：学员移出本班")
        expect(page.locator("#decide")).to_contain_text("已确认")
        timeline = page.locator(".px-timeline").last
        expect(timeline).to_contain_text("确认")
        v.shot("08-confirmed", scroll_to="#decide")

        v.click("link", "本班全部问题线索")
        expect(current.locator("tr", has_text="已死亡人员")).to_contain_text("已确认")
        expect(current.locator("tr", has_text="已死亡人员")).to_contain_text("学员移出本班")
        expect(current.locator("tr", has_text="住院期间有考勤")).to_contain_text("已排除")
        v.shot("09-class-decided")

        # a re-run keeps both decisions
        v.click("button", "重新核查本班")
        expect(page.locator(".alert-success")).to_contain_text("本班核查完成")
        expect(current.locator("tr", has_text="已死亡人员")).to_contain_text("已确认")
        expect(current.locator("tr", has_text="住院期间有考勤")).to_contain_text("已排除")

        v.menu("机构风险")
        expect(page.locator("table.px-table").last).to_be_visible()
        expect(page.locator("body")).to_contain_text("鸿翔职业技能培训学校")
        v.shot("10-risk")

    deceased = Finding.objects.get(training_class=klass, rule_code="DECEASED")
    hospitalised = Finding.objects.get(training_class=klass, rule_code="HOSPITALIZED_PRESENT")
    assert (deceased.status, deceased.consequence) == (Finding.Status.CONFIRMED, "REMOVE_TRAINEE")
    assert hospitalised.status == Finding.Status.DISMISSED
    assert deceased.decided_by == world.xincheng_reviewer

    # --- (c) the 回民区 reviewer: not in scope ------------------------------------------------------
    with visitor("findings-huimin") as v:
        v.login("wu_huimin")
        assert v.status_of(f"/checks/findings/{deceased.pk}/") == 404
        assert v.status_of(f"/checks/findings/{hospitalised.pk}/") == 404
        assert v.status_of(f"/checks/classes/{klass.pk}/findings/") == 404
        v.goto("/checks/findings/")
        expect(v.page.locator("table.px-table tbody")).not_to_contain_text(CLASS_CODE)

    # --- the institution sees its own class's findings and the decisions, and decides nothing ---------
    operator = world.inst_a_operator
    operator.organisation = Institution.objects.get(code=INST).organisation
    operator.save(update_fields=["organisation"])
    with visitor("findings-institution") as v:
        page = v.page
        v.login("ma_hongxiang")
        v.menu("问题线索")
        listing = page.locator("table.px-table tbody")
        expect(listing.locator("tr", has_text="已死亡人员")).to_contain_text("已确认")
        expect(listing.get_by_role("link", name="核实处理")).to_have_count(0)
        v.shot("01-list")
        listing.locator("tr", has_text="已死亡人员").get_by_role("link", name="查看").click()
        page.wait_for_load_state()
        expect(page.locator("#decide")).to_contain_text("学员移出本班")
        expect(page.locator("#finding-decision")).to_have_count(0)
        v.click("link", "本班全部问题线索")
        expect(page.get_by_role("button", name="重新核查本班")).to_have_count(0)
