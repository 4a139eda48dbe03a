"""The data contract (contract.md): import_package, import_registry, import_history, all or nothing."""

import csv
import datetime as dt
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from peixun.attendance.models import AttendanceRecord, OnlineSession
from peixun.checks.models import HistoryTraining, RegistryRow, RegistrySnapshot
from peixun.core.identity import id_lookup_hash
from peixun.core.models import AuditEntry, Person
from peixun.institutions.models import Institution, Teacher
from peixun.training.models import Enrollment, ExamResult, Lesson, TrainingClass
from peixun.web.demo import make_uscc
from tests.conftest import new_id_number

pytestmark = pytest.mark.django_db

INST = make_uscc("52150102MJY00001A")
TEACHER = new_id_number("150102", dt.date(1975, 2, 3), True, seed=11)
TRAINEE_A = new_id_number("150103", dt.date(1990, 6, 1), False, seed=12)
TRAINEE_B = new_id_number("150104", dt.date(1985, 9, 9), True, seed=13)


def write(directory: Path, name: str, rows: list[dict]) -> Path:
    path = directory / name
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def package(directory: Path) -> Path:
    write(
        directory,
        "institutions.csv",
        [
            dict(
                institution_code=INST,
                name="鸿翔职业技能培训学校",
                type="PRIVATE_SCHOOL",
                area_code="150102",
                address="新华大街1号",
                licensed_occupations="4-10-01-05;4-10-01-06",
                listed="Y",
            )
        ],
    )
    write(
        directory,
        "teachers.csv",
        [dict(id_number=TEACHER, name="王老师", institution_code=INST, qualification="养老护理员二级/技师")],
    )
    write(
        directory,
        "classes.csv",
        [
            dict(
                class_code="C2026001",
                institution_code=INST,
                area_code="150102",
                occupation_code="4-10-01-05",
                occupation_name="养老护理员",
                level="5",
                training_type="EMPLOYMENT",
                start_date="2026-03-02",
                end_date="2026-03-03",
                total_hours="8",
                online_hours="0",
                site_address="新华大街1号",
                site_lat="40.81",
                site_lon="111.66",
            )
        ],
    )
    write(
        directory,
        "lessons.csv",
        [
            dict(
                class_code="C2026001",
                date="2026-03-02",
                start_time="08:30",
                end_time="11:30",
                hours="4",
                mode="OFFLINE",
                teacher_id_number=TEACHER,
            ),
            dict(
                class_code="C2026001",
                date="2026-03-03",
                start_time="08:30",
                end_time="11:30",
                hours="4",
                mode="OFFLINE",
                teacher_id_number=TEACHER,
            ),
        ],
    )
    write(
        directory,
        "enrollments.csv",
        [
            dict(
                class_code="C2026001",
                id_number=TRAINEE_A,
                name="陈静",
                phone="13900000001",
                category="REGISTERED_UNEMPLOYED",
            ),
            dict(
                class_code="C2026001",
                id_number=TRAINEE_B.lower(),
                name="李明",
                phone="13900000002",
                category="RURAL_MIGRANT",
            ),
        ],
    )
    write(
        directory,
        "attendance.csv",
        [
            dict(
                class_code="C2026001",
                id_number=TRAINEE_A,
                check_in="2026-03-02T08:25:00",
                check_out="2026-03-02T11:35:00",
                method="FACE",
                photo_sha256="a" * 64,
                lat="40.81",
                lon="111.66",
            ),
            dict(
                class_code="C2026001",
                id_number=TRAINEE_B,
                check_in="2026-03-02T08:26:00",
                check_out="2026-03-02T11:31:00",
                method="CARD",
                photo_sha256="",
                lat="",
                lon="",
            ),
        ],
    )
    write(
        directory,
        "online_sessions.csv",
        [
            dict(
                class_code="C2026001",
                id_number=TRAINEE_A,
                platform_code="BJ01",
                start_at="2026-03-02T19:00:00",
                end_at="2026-03-02T20:30:00",
                ip="10.0.0.8",
                face_checks_passed="3",
                face_checks_failed="0",
            )
        ],
    )
    write(
        directory,
        "exams.csv",
        [
            dict(
                class_code="C2026001",
                id_number=TRAINEE_A,
                exam_date="2026-03-03",
                score="88",
                passed="Y",
                certificate_type="TRAINING",
                certificate_no="NM2026-0001",
            )
        ],
    )
    return directory


def counts():
    return (
        Institution.objects.count(),
        Teacher.objects.count(),
        TrainingClass.objects.count(),
        Lesson.objects.count(),
        Enrollment.objects.count(),
        AttendanceRecord.objects.count(),
        OnlineSession.objects.count(),
        ExamResult.objects.count(),
        Person.objects.count(),
    )


def test_a_whole_package_imports_and_a_reimport_changes_nothing(reference_data, tmp_path):
    """凡补必进 (第二十一条): what institutions hand over gets into peixun whole."""
    call_command("import_package", str(package(tmp_path)), stdout=StringIO())
    assert counts() == (1, 1, 1, 2, 2, 2, 1, 1, 3)
    institution = Institution.objects.get()
    assert institution.status == Institution.Status.LISTED
    b = Person.objects.get(id_hmac=id_lookup_hash(TRAINEE_B))  # lowercase x normalised
    assert b.name == "李明"
    # Institutions see the people on their rosters.
    assert b.affiliations.filter(organisation=institution.organisation).exists()
    attendance = AttendanceRecord.objects.get(person__id_hmac=id_lookup_hash(TRAINEE_A))
    assert attendance.check_in == dt.datetime(2026, 3, 2, 0, 25, tzinfo=dt.UTC)  # 08:25 Beijing time
    audit_before = AuditEntry.objects.filter(action__startswith="institution.directory").count()
    call_command("import_package", str(tmp_path), stdout=StringIO())
    assert counts() == (1, 1, 1, 2, 2, 2, 1, 1, 3)
    assert AuditEntry.objects.filter(action__startswith="institution.directory").count() == audit_before


def test_a_changed_class_row_is_an_update(reference_data, tmp_path):
    package(tmp_path)
    call_command("import_package", str(tmp_path), stdout=StringIO())
    rows = list(csv.DictReader(open(tmp_path / "classes.csv", encoding="utf-8")))
    rows[0]["site_address"] = "新华大街2号"
    write(tmp_path, "classes.csv", rows)
    out = StringIO()
    call_command("import_package", str(tmp_path), stdout=out)
    assert TrainingClass.objects.get().site_address == "新华大街2号"
    assert "updated=1" in out.getvalue()


def test_bad_rows_in_any_file_write_nothing_and_every_one_is_reported(reference_data, tmp_path):
    """contract.md: any bad row → nothing is written, exit non-zero, every bad row printed."""
    package(tmp_path)
    rows = list(csv.DictReader(open(tmp_path / "enrollments.csv", encoding="utf-8")))
    rows[1]["id_number"] = TRAINEE_B[:17] + ("0" if TRAINEE_B[17] != "0" else "1")  # wrong check digit
    rows[0]["category"] = "STUDENT"
    write(tmp_path, "enrollments.csv", rows)
    lessons = list(csv.DictReader(open(tmp_path / "lessons.csv", encoding="utf-8")))
    lessons[1]["end_time"] = "07:00"
    write(tmp_path, "lessons.csv", lessons)
    before = counts()
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_package", str(tmp_path), stdout=StringIO(), stderr=err)
    assert counts() == before == (0, 0, 0, 0, 0, 0, 0, 0, 0)
    report = err.getvalue()
    assert "enrollments.csv:3: id_number: 身份证号校验位错误" in report
    assert "enrollments.csv:2: category:" in report
    assert "lessons.csv:3: end_time: 结束时间应晚于开始时间" in report


def test_extra_and_missing_columns_are_rejected_with_a_clear_message(reference_data, tmp_path):
    write(tmp_path, "classes.csv", [dict(class_code="X", institution_code=INST, colour="red")])
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_package", str(tmp_path), stdout=StringIO(), stderr=err)
    assert "缺少必需的列" in err.getvalue()
    assert "有不认识的列：colour" in err.getvalue()


def test_attendance_of_someone_not_on_the_roster_is_refused(reference_data, tmp_path):
    package(tmp_path)
    stranger = new_id_number("150105", dt.date(1992, 1, 1), True, seed=99)
    rows = list(csv.DictReader(open(tmp_path / "attendance.csv", encoding="utf-8")))
    rows[1]["id_number"] = stranger
    write(tmp_path, "attendance.csv", rows)
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_package", str(tmp_path), stdout=StringIO(), stderr=err)
    assert "attendance.csv:3: id_number: 该学员不在本班花名册中" in err.getvalue()
    assert AttendanceRecord.objects.count() == 0


def test_an_imported_attendance_record_cannot_be_rewritten_by_a_later_import(reference_data, tmp_path):
    """第二十条: recorded hours are evidence; a changed row is refused, not applied."""
    package(tmp_path)
    call_command("import_package", str(tmp_path), stdout=StringIO())
    rows = list(csv.DictReader(open(tmp_path / "attendance.csv", encoding="utf-8")))
    rows[0]["check_out"] = "2026-03-02T12:30:00"
    write(tmp_path, "attendance.csv", rows)
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_package", str(tmp_path), stdout=StringIO(), stderr=err)
    assert "不能通过导入修改" in err.getvalue()
    record = AttendanceRecord.objects.get(person__id_hmac=id_lookup_hash(TRAINEE_A))
    assert record.check_out == dt.datetime(2026, 3, 2, 3, 35, tzinfo=dt.UTC)


def test_a_registry_import_replaces_the_snapshot_whole_and_records_the_file(reference_data, tmp_path):
    first = write(
        tmp_path,
        "death.csv",
        [
            dict(id_number=TRAINEE_A, name="陈静", death_date="2026-01-05"),
            dict(id_number=TRAINEE_B, name="李明", death_date="2025-12-01"),
        ],
    )
    call_command("import_registry", "death", str(first), stdout=StringIO())
    assert RegistryRow.objects.filter(kind="death").count() == 2
    second = write(tmp_path, "death2.csv", [dict(id_number=TRAINEE_B, name="李明", death_date="2025-12-01")])
    call_command("import_registry", "death", str(second), stdout=StringIO())
    rows = RegistryRow.objects.filter(kind="death")
    assert [r.id_hmac for r in rows] == [id_lookup_hash(TRAINEE_B)]
    snapshots = RegistrySnapshot.objects.filter(kind="death").order_by("imported_at")
    assert [(s.file_name, s.row_count) for s in snapshots] == [("death.csv", 2), ("death2.csv", 1)]
    assert len(snapshots[1].sha256) == 64
    # raw numbers are not stored
    assert not RegistryRow.objects.filter(id_masked=TRAINEE_B).exists()


def test_a_bad_registry_file_leaves_the_old_snapshot_in_place(reference_data, tmp_path):
    good = write(
        tmp_path,
        "insured.csv",
        [
            dict(
                id_number=TRAINEE_A,
                name="陈静",
                employer_uscc=INST,
                employer_name="某公司",
                start_month="2025-01",
                end_month="2025-06",
            )
        ],
    )
    call_command("import_registry", "social_insurance", str(good), stdout=StringIO())
    row = RegistryRow.objects.get(kind="social_insurance")
    assert (row.date_from, row.date_to) == (dt.date(2025, 1, 1), dt.date(2025, 6, 30))
    bad = write(
        tmp_path,
        "insured2.csv",
        [
            dict(
                id_number=TRAINEE_A,
                name="陈静",
                employer_uscc=INST,
                employer_name="某公司",
                start_month="2025-13",
                end_month="",
            )
        ],
    )
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_registry", "social_insurance", str(bad), stdout=StringIO(), stderr=err)
    assert "insured2.csv:2:" in err.getvalue()
    assert RegistryRow.objects.filter(kind="social_insurance").count() == 1
    assert RegistrySnapshot.objects.filter(kind="social_insurance").count() == 1


def test_history_imports_idempotently(reference_data, tmp_path):
    path = write(
        tmp_path,
        "history.csv",
        [
            dict(
                id_number=TRAINEE_A,
                name="陈静",
                occupation_code="4-10-01-05",
                level="5",
                training_type="EMPLOYMENT",
                completed_on="2023-05-20",
                institution_code=INST,
                subsidy_amount="1200",
            )
        ],
    )
    call_command("import_history", str(path), stdout=StringIO())
    call_command("import_history", str(path), stdout=StringIO())
    assert HistoryTraining.objects.count() == 1
    assert HistoryTraining.objects.get().id_hmac == id_lookup_hash(TRAINEE_A)


def test_crosscheck_of_one_class_stores_findings_and_export_follows_the_contract(reference_data, tmp_path):
    """crosscheck --class runs the interactive path; export_findings writes contract.md's columns."""
    package(tmp_path)
    call_command("import_package", str(tmp_path), stdout=StringIO())
    death = write(
        tmp_path,
        "death.csv",
        [
            dict(id_number=TRAINEE_A, name="陈静", death_date="2026-02-20"),
        ],
    )
    call_command("import_registry", "death", str(death), stdout=StringIO())
    out = StringIO()
    call_command("crosscheck", "--class", "C2026001", stdout=out)
    assert "新发现" in out.getvalue()
    target = tmp_path / "findings.csv"
    call_command("export_findings", str(target), stdout=StringIO())
    rows = list(csv.DictReader(open(target, encoding="utf-8")))
    assert list(rows[0]) == [
        "rule_code",
        "severity",
        "class_code",
        "id_number",
        "status",
        "evidence",
        "article",
        "rules_version",
    ]
    deceased = [r for r in rows if r["rule_code"] == "DECEASED"]
    assert len(deceased) == 1
    assert deceased[0]["id_number"] == TRAINEE_A
    assert deceased[0]["severity"] == "BLOCK" and deceased[0]["status"] == "OPEN"
    assert "2026-02-20" in deceased[0]["evidence"]
    # running it twice does not duplicate, and the cause gone closes the finding
    call_command("crosscheck", "--class", "C2026001", stdout=StringIO())
    call_command("export_findings", str(target), stdout=StringIO())
    assert (
        len([r for r in csv.DictReader(open(target, encoding="utf-8")) if r["rule_code"] == "DECEASED"]) == 1
    )
    alive = write(tmp_path, "death.csv", [dict(id_number=TRAINEE_B, name="李明", death_date="2020-01-01")])
    call_command("import_registry", "death", str(alive), stdout=StringIO())
    call_command("crosscheck", "--class", "C2026001", stdout=StringIO())
    call_command("export_findings", str(target), stdout=StringIO())
    rows = list(csv.DictReader(open(target, encoding="utf-8")))
    assert {(r["rule_code"], r["id_number"]) for r in rows if r["rule_code"] == "DECEASED"} == {
        ("DECEASED", TRAINEE_B.upper())
    }


def test_a_package_import_reports_its_progress_file_by_file(reference_data, tmp_path):
    """Long jobs show progress (ui.md): each file as it starts, out of the files present."""
    from peixun.exchange.package import import_package

    calls = []
    import_package(directory=package(tmp_path), actor=None, progress=lambda d, t, m: calls.append((d, t, m)))
    starts = [(d, t) for d, t, m in calls if m.startswith("正在校验并导入")]
    assert starts == [(i, 8) for i in range(8)]
    assert any("attendance.csv：已处理 2 行" in m for _d, _t, m in calls)
