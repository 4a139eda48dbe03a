"""上传考勤表 on the class sheet: the institution uploads its class's attendance.csv / .xlsx; all
or nothing (every problem listed with its file line), identical re-uploads are duplicates, the
records are appended through the batch service (source IMPORT, hash-chained)."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from peixun.attendance.models import AttendanceRecord, Source
from peixun.attendance.services import verify_attendance
from peixun.core.contract import PACKAGE_COLUMNS
from peixun.core.models import AuditEntry
from peixun.core.tabular import write_xlsx
from tests.test_attendance_chain import CLASS_CODE, ClassSetup, at

pytestmark = pytest.mark.django_db

HEADER = ",".join(PACKAGE_COLUMNS["attendance.csv"])


@pytest.fixture
def setup(world):
    return ClassSetup(world)


def rows(s):
    li, chen = s.li_ming.reveal_id_number(), s.chen_jing.reveal_id_number()
    return [
        [CLASS_CODE, li, "2026-03-02T08:25:00", "2026-03-02T11:35:00", "FACE", "", "40.81", "111.66"],
        [CLASS_CODE, li, "2026-03-03T08:28:00", "2026-03-03T11:31:00", "CARD", "", "", ""],
        [CLASS_CODE, chen, "2026-03-02T08:20:00", "2026-03-02T11:40:00", "FINGERPRINT", "a" * 64, "", ""],
    ]


def csv_file(lines, name="attendance.csv"):
    text = "\n".join([HEADER, *(",".join(r) for r in lines)]) + "\n"
    return SimpleUploadedFile(name, text.encode("utf-8-sig"), content_type="text/csv")


def upload_url(s):
    return reverse("attendance:upload", args=[s.klass.pk])


def sheet_url(s):
    return reverse("attendance:class_sheet", args=[s.klass.pk])


def test_a_good_csv_is_recorded_as_import_and_chained_and_a_reupload_is_duplicates_only(client, setup):
    client.force_login(setup.operator)
    response = client.post(upload_url(setup), {"file": csv_file(rows(setup))}, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert "已导入：新增3条记录" in html
    records = list(AttendanceRecord.objects.filter(training_class=setup.klass).order_by("seq"))
    assert [r.seq for r in records] == [1, 2, 3]
    assert {r.source for r in records} == {Source.IMPORT}
    assert all(r.recorded_by == setup.operator for r in records)
    first = records[0]
    assert first.check_in == at(2, 8, 25) and first.lat == pytest.approx(40.81) and first.method == "FACE"
    assert records[1].prev_hash == records[0].hash  # chained
    assert verify_attendance(setup.klass) == []
    assert AuditEntry.objects.filter(action="attendance.uploaded").count() == 1
    rows_shown = {r.person.name: r for r in response.context["rows"]}
    assert rows_shown["李明"].count.offline == 8 and rows_shown["陈静"].count.offline == 4

    again = client.post(upload_url(setup), {"file": csv_file(rows(setup))}, follow=True)
    html = again.content.decode()
    assert "均已存在，未新增记录" in html and "3条与已有记录完全相同" in html
    assert AttendanceRecord.objects.filter(training_class=setup.klass).count() == 3


def test_bad_rows_write_nothing_and_every_error_is_listed_with_its_line(client, setup):
    client.force_login(setup.operator)
    stranger, chen = setup.stranger.reveal_id_number(), setup.chen_jing.reveal_id_number()
    lines = [
        *rows(setup),  # lines 2-4 are fine
        [CLASS_CODE, setup.li_ming.reveal_id_number(), "2026/03/04 08:30", "", "FACE", "", "", ""],  # 5
        [CLASS_CODE, stranger, "2026-03-02T08:25:00", "2026-03-02T11:35:00", "FACE", "", "", ""],  # 6
        ["HX2026-9999", chen, "2026-03-03T08:25:00", "", "FACE", "", "", ""],  # 7
        [CLASS_CODE, chen, "2026-03-03T08:25:00", "", "PHONE", "", "95", ""],  # 8
    ]
    response = client.post(upload_url(setup), {"file": csv_file(lines)})
    assert response.status_code == 200
    assert not AttendanceRecord.objects.exists()
    assert not AuditEntry.objects.filter(action="attendance.uploaded").exists()
    errors = [str(e) for e in response.context["upload_errors"]]
    assert (
        errors[0] == "attendance.csv:5: check_in: 时间“2026/03/04 08:30”应为YYYY-MM-DDTHH:MM:SS（北京时间）"
    )
    assert "attendance.csv:6: id_number: 该学员不在本班花名册中" in errors
    assert any(e.startswith("attendance.csv:7: class_code: 班级编号“HX2026-9999”不是本班") for e in errors)
    assert any(e.startswith("attendance.csv:8: method:") for e in errors)
    assert any(e.startswith("attendance.csv:8: lat: 纬度“95”超出范围") for e in errors)
    assert len(errors) == 5
    html = response.content.decode()
    assert "整个文件未导入" in html and "第6行" in html and "该学员不在本班花名册中" in html


def test_a_row_differing_from_a_recorded_one_is_refused_and_nothing_else_is_written(client, setup):
    client.force_login(setup.operator)
    client.post(upload_url(setup), {"file": csv_file(rows(setup)[:1])})
    changed = rows(setup)
    changed[0][3] = "2026-03-02T11:50:00"  # same trainee and check_in, another check_out
    response = client.post(upload_url(setup), {"file": csv_file(changed)})
    errors = [str(e) for e in response.context["upload_errors"]]
    assert len(errors) == 1 and errors[0].startswith("attendance.csv:2: check_in: 与已记录的考勤")
    assert "第二十条" in errors[0]
    assert AttendanceRecord.objects.count() == 1


def test_an_xlsx_upload_works_and_the_template_has_this_class(client, setup):
    client.force_login(setup.operator)
    template = client.get(reverse("attendance:upload_template", args=[setup.klass.pk]))
    assert template.status_code == 200
    sheet = load_workbook(io.BytesIO(template.content)).active
    table = list(sheet.iter_rows(values_only=True))
    assert table[0] == PACKAGE_COLUMNS["attendance.csv"]
    assert table[1][0] == CLASS_CODE and table[1][2] == "2026-03-02T08:25:00" and table[1][4] == "FACE"
    content = write_xlsx("attendance", PACKAGE_COLUMNS["attendance.csv"], rows(setup))
    upload = SimpleUploadedFile("三月考勤.xlsx", content)
    response = client.post(upload_url(setup), {"file": upload}, follow=True)
    assert "考勤表“三月考勤.xlsx”已导入：新增3条记录" in response.content.decode()
    assert AttendanceRecord.objects.filter(source=Source.IMPORT).count() == 3


def test_a_wrong_header_is_reported_on_line_1(client, setup):
    client.force_login(setup.operator)
    upload = SimpleUploadedFile("attendance.csv", b"class_code,id_number,check_in\n")
    response = client.post(upload_url(setup), {"file": upload})
    errors = [str(e) for e in response.context["upload_errors"]]
    assert errors and errors[0].startswith("attendance.csv:1: 表头: 缺少必需的列")


def test_only_the_institution_operator_may_upload(client, setup):
    client.force_login(setup.world.xincheng_reviewer)
    html = client.get(sheet_url(setup)).content.decode()
    assert "上传考勤表" not in html
    assert client.post(upload_url(setup), {"file": csv_file(rows(setup))}).status_code == 404
    assert client.get(reverse("attendance:upload_template", args=[setup.klass.pk])).status_code == 404
    client.force_login(setup.world.inst_b_operator)  # another institution's operator
    assert client.post(upload_url(setup), {"file": csv_file(rows(setup))}).status_code == 404
    assert not AttendanceRecord.objects.exists()
    client.force_login(setup.operator)
    assert "上传考勤表" in client.get(sheet_url(setup)).content.decode()
