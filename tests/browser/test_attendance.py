"""考勤与学时 in a real browser: the institution operator of a class uploads its attendance file on the
class sheet (first a file with a wrong row — nothing written, the rows listed — then the corrected
one); the 新城区 reviewer opens the class sheet and a trainee's hours page and sees the counted hours
and the missed lesson; the trainee sees 我的培训.

Screenshots at 1280x800: var/screenshots/attendance-*.png (docs/guide/attendance.md reuses them).
"""

import pytest
from playwright.sync_api import expect

from peixun.attendance.models import AttendanceRecord, Source
from peixun.core.contract import PACKAGE_COLUMNS
from tests.test_attendance_chain import CLASS_CODE, ClassSetup

pytestmark = pytest.mark.browser


@pytest.fixture
def setup(world):
    return ClassSetup(world)


def write_csv(path, rows):
    lines = [",".join(PACKAGE_COLUMNS["attendance.csv"]), *(",".join(r) for r in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def good_rows(s):
    li, chen = s.li_ming.reveal_id_number(), s.chen_jing.reveal_id_number()
    return [
        # 李明 only on the first day: the second day's lesson is missed
        [CLASS_CODE, li, "2026-03-02T08:25:00", "2026-03-02T11:35:00", "FACE", "", "", ""],
        [CLASS_CODE, chen, "2026-03-02T08:20:00", "2026-03-02T11:33:00", "CARD", "", "", ""],
        [CLASS_CODE, chen, "2026-03-03T08:27:00", "2026-03-03T11:31:00", "CARD", "", "", ""],
    ]


def test_operator_uploads_and_reviewer_and_trainee_see_the_hours(live_server, setup, visitor, tmp_path):
    sheet = f"/attendance/classes/{setup.klass.pk}/"
    with visitor("attendance") as visit:
        visit.login(setup.operator.username)
        visit.goto(sheet)
        form = visit.page.locator("#attendance-upload")
        expect(form).to_contain_text("上传考勤表")
        expect(form.get_by_role("link", name="下载本班模板（attendance.xlsx）")).to_be_visible()
        visit.shot("01-operator-sheet", scroll_to="#attendance-upload")

        bad = [*good_rows(setup)]
        bad[1] = ["HX2026-0999", *bad[1][1:]]
        bad.append(
            [CLASS_CODE, setup.stranger.reveal_id_number(), "2026-03-03 08:30", "", "FACE", "", "", ""]
        )
        visit.page.set_input_files("#id_attendance_file", str(write_csv(tmp_path / "attendance.csv", bad)))
        visit.submit("上传考勤表")
        errors = visit.page.locator("#upload-errors tbody tr")
        expect(errors).to_have_count(3)
        expect(visit.page.locator("#attendance-upload")).to_contain_text("整个文件未导入")
        expect(errors.nth(0)).to_contain_text("不是本班")
        expect(visit.page.locator("#upload-errors")).to_contain_text("该学员不在本班花名册中")
        assert not AttendanceRecord.objects.exists()
        visit.shot("02-upload-errors", scroll_to="#attendance-upload")

        visit.page.set_input_files(
            "#id_attendance_file", str(write_csv(tmp_path / "attendance.csv", good_rows(setup)))
        )
        visit.submit("上传考勤表")
        expect(visit.page.locator(".alert-success")).to_contain_text("已导入：新增3条记录")
        assert AttendanceRecord.objects.filter(source=Source.IMPORT).count() == 3
        visit.shot("03-upload-done")

    with visitor("attendance") as visit:
        visit.login(setup.world.xincheng_reviewer.username)
        visit.goto(sheet)
        li = visit.page.locator("tr", has_text="李明").first
        expect(li).to_contain_text("4.0")
        expect(li).to_contain_text("1节")
        expect(visit.page.locator("tr", has_text="陈静").first).to_contain_text("8.0")
        expect(visit.page.locator("#attendance-upload")).to_have_count(0)
        expect(visit.page.locator("body")).to_contain_text("导入")  # the records' source
        visit.shot("04-reviewer-sheet")
        li.get_by_role("link", name="学时明细").click()
        visit.page.wait_for_load_state()
        expect(visit.page.locator("body")).to_contain_text("缺课1节")
        visit.shot("05-trainee-hours")

    with visitor("attendance") as visit:
        visit.login(setup.world.trainee.username)  # 李明
        visit.goto("/attendance/my/")
        expect(visit.page.locator("body")).to_contain_text(CLASS_CODE)
        expect(visit.page.locator("body")).to_contain_text("缺课")
        expect(visit.page.locator(".px-trainee-status").first).to_contain_text("培训补贴：尚未申请")
        visit.shot("06-my")
