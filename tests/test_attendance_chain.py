"""Attendance and online sessions: append-only, idempotent, per-item errors, corrections and the
per-class hash chain that reveals any record changed in the database directly (第二十条)."""

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from peixun.accounts.roles import Role
from peixun.accounts.services import person_register, user_create
from peixun.attendance import services
from peixun.attendance.hours import SHANGHAI
from peixun.attendance.models import AttendanceRecord, ChainHead, OnlineSession, Source
from peixun.attendance.services import (
    AttendanceItem,
    OnlineItem,
    attendance_append_batch,
    attendance_correct,
    attendance_manual_entry,
    effective_attendance,
    online_sessions_append_batch,
    verify_attendance,
)
from peixun.core.errors import PeixunError
from peixun.core.models import Area, AuditEntry
from peixun.institutions.services import institution_register
from peixun.training.models import Enrollment, Lesson, TrainingClass
from tests.conftest import PASSWORD, new_id_number
from tests.test_findings_ui import uscc

pytestmark = pytest.mark.django_db

CLASS_CODE = "HX2026-0302"


def at(day: int, hh: int, mm: int = 0, ss: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hh, mm, ss, tzinfo=SHANGHAI)


class ClassSetup:
    """A class of 鸿翔 in 新城区: two 3-hour offline lessons of 4 class hours each, total 10 hours
    (so online may count up to 4); 李明 and 陈静 on the roster, 王芳 not."""

    def __init__(self, world):
        self.world = world
        self.institution = institution_register(
            code=uscc("52150102MJY000021"),
            name="呼和浩特市鸿翔职业技能培训学校",
            type="PRIVATE_SCHOOL",
            area=Area.objects.get(code="150102"),
            actor=world.hohhot_admin,
        )
        self.operator = user_create(
            username="hx_attendance",
            password=PASSWORD,
            role=Role.INSTITUTION_OPERATOR,
            display_name="马文华",
            organisation=self.institution.organisation,
            actor=None,
        )
        self.klass = TrainingClass.objects.create(
            code=CLASS_CODE,
            institution=self.institution,
            area=Area.objects.get(code="150102"),
            occupation_code="4-10-01-05",
            occupation_name="养老护理员",
            level="5",
            training_type="EMPLOYMENT",
            start_date=dt.date(2026, 3, 2),
            end_date=dt.date(2026, 3, 3),
            total_hours=Decimal("10"),
            online_hours=Decimal("2"),
            site_address="呼和浩特市新城区新华大街1号",
        )
        for day in (2, 3):
            Lesson.objects.create(
                training_class=self.klass,
                date=dt.date(2026, 3, day),
                start_time=dt.time(8, 30),
                end_time=dt.time(11, 30),
                hours=Decimal("4"),
                mode=Lesson.Mode.OFFLINE,
            )
        self.li_ming, self.chen_jing = world.li_ming, world.chen_jing
        for person in (self.li_ming, self.chen_jing):
            Enrollment.objects.create(training_class=self.klass, person=person, category="RURAL_MIGRANT")
        self.stranger, _ = person_register(
            id_number=new_id_number("150104", dt.date(1992, 1, 1), False, seed=77),
            name="王芳",
            actor=None,
            organisation=world.inst_a,
        )

    def item(self, person=None, day=2, start=(8, 25), end=(11, 35), method="FACE", **kw):
        return AttendanceItem(
            person=person or self.li_ming,
            check_in=at(day, *start),
            check_out=at(day, *end) if end else None,
            method=method,
            **kw,
        )

    def append(self, items, source=Source.DEVICE, **kw):
        return attendance_append_batch(training_class=self.klass, items=items, source=source, **kw)


@pytest.fixture
def setup(world):
    return ClassSetup(world)


def test_a_batch_is_chained_and_an_identical_repeat_adds_nothing(setup):
    items = [setup.item(), setup.item(setup.chen_jing, photo_sha256="b" * 64, lat=40.81, lon=111.66)]
    first = setup.append(items, device_code="KQ-001")
    assert (first.created, first.duplicates, first.errors) == (2, 0, [])
    records = list(AttendanceRecord.objects.filter(training_class=setup.klass).order_by("seq"))
    assert [r.seq for r in records] == [1, 2]
    assert records[0].prev_hash == "0" * 64 and records[1].prev_hash == records[0].hash
    assert {r.source for r in records} == {Source.DEVICE} and records[0].device_code == "KQ-001"
    head = ChainHead.objects.get(training_class=setup.klass, kind="ATTENDANCE")
    assert (head.last_seq, head.last_hash) == (2, records[1].hash)

    again = setup.append(items, device_code="KQ-001")  # the device re-pushes after a timeout
    assert (again.created, again.duplicates, again.errors) == (0, 2, [])
    assert AttendanceRecord.objects.count() == 2
    assert verify_attendance() == []


def test_a_mixed_batch_keeps_its_valid_items_and_reports_each_bad_one(setup):
    setup.append([setup.item(day=3)])
    result = setup.append(
        [
            setup.item(),  # 0 valid
            setup.item(setup.stranger),  # 1 not on the roster
            setup.item(setup.chen_jing, start=(11, 0), end=(8, 0)),  # 2 check-out before check-in
            setup.item(day=3, end=(11, 0)),  # 3 same key as a stored record, different content
            setup.item(day=3),  # 4 identical to the stored record
            setup.item(setup.chen_jing, method="IRIS"),  # 5 unknown method
            setup.item(setup.chen_jing, day=3),  # 6 valid
            setup.item(setup.chen_jing, day=3, end=(10, 0)),  # 7 same key as item 6, differing
        ]
    )
    assert result.created == 2 and result.duplicates == 1
    errors = {e.index: e for e in result.errors}
    assert sorted(errors) == [1, 2, 3, 5, 7]
    assert errors[1].message == "该学员不在本班花名册中" and errors[1].code == "not_enrolled"
    assert errors[2].message == "签退时间早于签到时间"
    assert "不一致" in errors[3].message and errors[3].code == "conflict"
    assert "考勤方式" in errors[5].message
    assert "第7条" in errors[7].message
    stored = AttendanceRecord.objects.filter(training_class=setup.klass)
    assert stored.count() == 3
    assert verify_attendance() == []


def test_manual_entry_needs_a_reason_and_is_marked(setup):
    with pytest.raises(PeixunError, match="原因"):
        attendance_manual_entry(
            training_class=setup.klass,
            person=setup.li_ming,
            check_in=at(2, 8, 30),
            check_out=at(2, 11, 30),
            actor=setup.operator,
            reason="  ",
        )
    record = attendance_manual_entry(
        training_class=setup.klass,
        person=setup.li_ming,
        check_in=at(2, 8, 30),
        check_out=at(2, 11, 30),
        actor=setup.operator,
        reason="考勤机故障，班主任核实后补录",
    )
    assert (record.source, record.method, record.recorded_by) == ("MANUAL", "MANUAL", setup.operator)
    assert AuditEntry.objects.filter(action="attendance.manual_entry").exists()
    # A manual item without a reason in a batch is an error item, not a silent record.
    result = setup.append([setup.item(setup.chen_jing, method="MANUAL")], source=Source.MANUAL)
    assert result.created == 0 and "原因" in result.errors[0].message


def test_free_text_with_tabs_backslashes_and_line_breaks_is_stored_exactly_and_chained(setup):
    """第二十条: whatever a reason or device code holds is kept as written and covered by the chain
    (on PostgreSQL the batch is written with COPY, whose text format must escape these)."""
    reason = "补录\t原因：考勤机\\故障\n第二行\r\\N 不是空值"
    result = setup.append(
        [
            setup.item(reason=reason, method="MANUAL"),
            setup.item(setup.chen_jing, reason="普通原因", method="MANUAL"),
        ],
        source=Source.MANUAL,
        device_code="KQ\t\\01",
    )
    assert (result.created, result.errors) == (2, [])
    stored = dict(
        AttendanceRecord.objects.filter(training_class=setup.klass).values_list("person_id", "reason")
    )
    assert stored == {setup.li_ming.pk: reason, setup.chen_jing.pk: "普通原因"}
    assert set(AttendanceRecord.objects.values_list("device_code", flat=True)) == {"KQ\t\\01"}
    assert AttendanceRecord.objects.get(person=setup.li_ming).check_out is not None
    assert services.verify_attendance(setup.klass) == []


def test_a_correction_replaces_the_record_in_counting_and_both_are_kept(setup):
    setup.append([setup.item(start=(8, 30), end=(9, 0)), setup.item(day=3)])
    original = AttendanceRecord.objects.get(check_in=at(2, 8, 30))
    (before,) = services.class_hours(setup.klass, person=setup.li_ming)
    assert before.count.offline == 4 and len(before.count.missed) == 1

    with pytest.raises(PeixunError, match="原因"):
        attendance_correct(
            record=original, actor=setup.operator, reason="", check_in=at(2, 8, 30), check_out=at(2, 11, 30)
        )
    first = attendance_correct(
        record=original,
        actor=setup.operator,
        reason="签退未成功，监控录像核实11:30离开",
        check_in=at(2, 8, 30),
        check_out=at(2, 11, 30),
    )
    assert first.corrects == original and first.source == "MANUAL" and first.seq == 3
    (after,) = services.class_hours(setup.klass, person=setup.li_ming)
    assert after.count.offline == 8 and after.count.missed == ()
    assert AttendanceRecord.objects.filter(person=setup.li_ming).count() == 3  # original kept
    original.refresh_from_db()
    assert original.check_out == at(2, 9, 0)  # and unchanged

    # A later correction (of the correction) wins; the counted view has one record for the lesson.
    second = attendance_correct(
        record=first,
        actor=setup.operator,
        reason="复核后确认10:00离开",
        check_in=at(2, 8, 30),
        check_out=at(2, 10, 0),
    )
    effective = effective_attendance(setup.klass, setup.li_ming)
    assert [r.pk for r in effective] == [second.pk, AttendanceRecord.objects.get(check_in=at(3, 8, 25)).pk]
    (latest,) = services.class_hours(setup.klass, person=setup.li_ming)
    assert latest.count.offline == 4
    assert AuditEntry.objects.filter(action="attendance.corrected").count() == 2
    assert verify_attendance() == []


def _run_command():
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_attendance", stdout=StringIO(), stderr=err)
    return err.getvalue()


@pytest.fixture
def chained(setup):
    setup.append(
        [setup.item(), setup.item(setup.chen_jing), setup.item(day=3), setup.item(setup.chen_jing, day=3)]
    )
    out = StringIO()
    call_command("verify_attendance", stdout=out)
    assert "完整" in out.getvalue()
    return {r.seq: r for r in AttendanceRecord.objects.filter(training_class=setup.klass)}


def test_a_field_edited_in_the_database_is_found(setup, chained):
    AttendanceRecord.objects.filter(pk=chained[2].pk).update(check_out=at(2, 12, 30))
    (problem,) = verify_attendance()
    assert (problem.class_code, problem.seq, problem.record_id) == (CLASS_CODE, 2, chained[2].pk)
    assert "哈希不符" in problem.message
    assert f"{CLASS_CODE} 考勤记录第2条" in _run_command()


def test_a_deleted_record_is_found(setup, chained):
    AttendanceRecord.objects.filter(pk=chained[2].pk).delete()
    (problem,) = verify_attendance(setup.klass)
    assert problem.seq == 3 and "删除" in problem.message
    assert "第3条" in _run_command()


def test_a_deleted_last_record_is_found_by_the_chain_head(setup, chained):
    AttendanceRecord.objects.filter(pk=chained[4].pk).delete()
    (problem,) = verify_attendance()
    assert problem.record_id is None and "实有3条" in problem.message
    _run_command()


def test_two_swapped_records_are_found(setup, chained):
    with transaction.atomic():
        AttendanceRecord.objects.filter(pk=chained[2].pk).update(seq=99)
        AttendanceRecord.objects.filter(pk=chained[3].pk).update(seq=2)
        AttendanceRecord.objects.filter(pk=chained[2].pk).update(seq=3)
    (problem,) = verify_attendance()
    assert problem.seq == 2 and problem.record_id == chained[3].pk
    assert "第2条" in _run_command()


def test_content_swapped_between_two_records_is_found(setup, chained):
    a, b = chained[1], chained[3]  # 李明's two days: swap their check-in and check-out times
    AttendanceRecord.objects.filter(pk=a.pk).update(check_in=at(1, 0), check_out=b.check_out)
    AttendanceRecord.objects.filter(pk=b.pk).update(check_in=a.check_in, check_out=a.check_out)
    AttendanceRecord.objects.filter(pk=a.pk).update(check_in=b.check_in)
    (problem,) = verify_attendance()
    assert problem.seq == 1


def test_online_sessions_are_idempotent_with_per_item_errors_and_chained(setup):
    def session(person, day, start, end, **kw):
        return OnlineItem(person=person, start_at=at(day, *start), end_at=at(day, *end), **kw)

    items = [
        session(setup.li_ming, 2, (19, 0), (20, 30), ip="10.0.0.8", face_checks_passed=3),
        session(setup.stranger, 2, (19, 0), (20, 30)),
        session(setup.chen_jing, 2, (21, 0), (20, 0)),
        session(setup.chen_jing, 2, (19, 0), (19, 45), ip="not-an-ip"),
    ]
    result = online_sessions_append_batch(
        training_class=setup.klass, items=items, source=Source.PLATFORM, platform_code="NMG-ZX01"
    )
    assert result.created == 1
    assert [(e.index, e.message) for e in result.errors] == [
        (1, "该学员不在本班花名册中"),
        (2, "结束时间早于开始时间"),
        (3, "IP地址格式不正确"),
    ]
    again = online_sessions_append_batch(
        training_class=setup.klass, items=items[:1], source=Source.PLATFORM, platform_code="NMG-ZX01"
    )
    assert (again.created, again.duplicates) == (0, 1)
    other = online_sessions_append_batch(
        training_class=setup.klass, items=items[:1], source=Source.PLATFORM, platform_code="OTHER"
    )
    assert other.created == 0 and other.errors[0].code == "conflict"
    session_row = OnlineSession.objects.get()
    assert (session_row.seq, session_row.source) == (1, "PLATFORM")
    assert verify_attendance() == []
    # Hours are counted from rows read with psycopg's compiled timestamp loader on PostgreSQL: the
    # same values, in UTC, as Django's own reading (IP addresses stay strings).
    setup.append([setup.item(), setup.item(setup.chen_jing, end=None)])
    for model, names in (
        (OnlineSession, services.ONLINE_COUNTED),
        (AttendanceRecord, services.ATTENDANCE_COUNTED),
    ):
        query = model.objects.order_by("seq").values_list(*names)
        fast, django_rows = services._rows(query), list(query)
        assert fast == django_rows and len(fast) >= 1
        assert all(
            v.utcoffset() == dt.timedelta(0) for row in fast for v in row if isinstance(v, dt.datetime)
        )
    OnlineSession.objects.update(face_checks_failed=1)
    (problem,) = verify_attendance()
    assert problem.kind == "ONLINE" and "线上学习记录第1条" in str(problem)


def test_a_package_import_appends_through_the_services(reference_data, tmp_path):
    from tests.test_exchange import package

    call_command("import_package", str(package(tmp_path)), stdout=StringIO())
    assert set(AttendanceRecord.objects.values_list("source", "seq")) == {("IMPORT", 1), ("IMPORT", 2)}
    assert OnlineSession.objects.get().source == "IMPORT"
    assert ChainHead.objects.count() == 2
    assert verify_attendance() == []
    call_command("import_package", str(tmp_path), stdout=StringIO())  # idempotent
    assert AttendanceRecord.objects.count() == 2 and verify_attendance() == []


def test_a_record_created_directly_is_chained_and_cannot_be_saved_again_or_deleted(setup):
    record = AttendanceRecord.objects.create(
        training_class=setup.klass,
        person=setup.li_ming,
        check_in=at(2, 8, 30),
        check_out=at(2, 11, 30),
        method="CARD",
    )
    assert record.seq == 1 and len(record.hash) == 64
    session = OnlineSession.objects.create(
        training_class=setup.klass,
        person=setup.li_ming,
        platform_code="P",
        start_at=at(2, 19),
        end_at=at(2, 20),
        ip="::ffff:10.0.0.1",
    )
    assert session.seq == 1
    assert verify_attendance() == []
    record.check_out = at(2, 12, 0)
    with pytest.raises(PeixunError, match="不能修改"):
        record.save()
    with pytest.raises(PeixunError, match="不能删除"):
        record.delete()


def test_ipv6_addresses_are_hashed_in_the_form_the_database_keeps(setup):
    result = online_sessions_append_batch(
        training_class=setup.klass,
        items=[OnlineItem(person=setup.li_ming, start_at=at(2, 19), end_at=at(2, 20), ip="2001:DB8::0:1")],
        source=Source.PLATFORM,
        platform_code="P",
    )
    assert result.created == 1 and verify_attendance() == []
