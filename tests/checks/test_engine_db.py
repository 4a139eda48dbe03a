"""The interactive cross-check over classes in the database: run_python finds exactly the planted
hits, in a bounded number of queries whatever the number of trainees."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from peixun.accounts.models import Organisation
from peixun.accounts.roles import Role
from peixun.accounts.services import organisation_create, person_register, user_create
from peixun.attendance.models import AttendanceRecord, OnlineSession
from peixun.checks.catalog import Hit
from peixun.checks.engine import run_python
from peixun.checks.facts import RuleParams, directory_status_on, load_facts
from peixun.checks.models import HistoryTraining, RegistryRow, RegistrySnapshot
from peixun.core.identity import id_lookup_hash, mask_id_number
from peixun.core.models import Area
from peixun.institutions.services import (
    assessment_record,
    directory_change,
    institution_register,
    institution_status_on,
)
from peixun.training.models import Enrollment, ExamResult, Lesson, TrainingClass
from tests.conftest import PASSWORD, new_id_number

SH = ZoneInfo("Asia/Shanghai")
CHEF = "4-03-02-01"  # 中式烹调师
HOUSEKEEPING = "4-10-01-06"  # 家政服务员
DAYS = [dt.date(2026, 3, 10), dt.date(2026, 3, 11), dt.date(2026, 3, 12)]


def at(day: dt.date, hm: str) -> dt.datetime:
    h, m = map(int, hm.split(":"))
    return dt.datetime(day.year, day.month, day.day, h, m, tzinfo=SH)


class Scene:
    """Two institutions (one listed, one never listed), three classes, planted problems."""

    def __init__(self):
        area = Area.objects.get(code="150102")
        region = organisation_create(
            name="内蒙古自治区人力资源和社会保障厅",
            kind=Organisation.Kind.REGION_DEPT,
            area=Area.objects.get(code="150000"),
            actor=None,
        )
        self.admin = user_create(
            username="wang_region",
            password=PASSWORD,
            role=Role.REGION_ADMIN,
            display_name="王建国",
            organisation=region,
            actor=None,
        )
        self.inst_a = institution_register(
            code="52150100MJY123456X",
            name="鸿翔职业技能培训学校",
            type="PRIVATE_SCHOOL",
            area=area,
            actor=self.admin,
            licensed_occupation_codes=[CHEF],
        )
        assessment_record(
            institution=self.inst_a,
            actor=self.admin,
            assessed_on=dt.date(2024, 12, 15),
            assessors="赵晓东、苏日娜",
            premises_ok=True,
            equipment_ok=True,
            teachers_ok=True,
        )
        directory_change(
            institution=self.inst_a,
            transition="list",
            actor=self.admin,
            effective_date=dt.date(2025, 1, 1),
            reason="实地考察通过",
        )
        self.inst_b = institution_register(
            code="52150100MJY654321X",
            name="青城家政职业培训学校",
            type="PRIVATE_SCHOOL",
            area=area,
            actor=self.admin,
            licensed_occupation_codes=[HOUSEKEEPING],
        )

        self.ids = {}
        self.li_ming = self.person("李明", dt.date(1988, 3, 9), seed=1)
        self.wang_fang = self.person("王芳", dt.date(1970, 1, 20), seed=2)  # died 2026-03-01
        self.zhao_lei = self.person("赵磊", dt.date(1985, 7, 1), seed=3)  # only in a replaced snapshot
        self.sun_hao = self.person("孙浩", dt.date(2010, 3, 11), seed=4)  # 16 the day after the start
        self.zhou_min = self.person("周敏", dt.date(1992, 8, 8), seed=5)  # trained as a cook before
        self.wu_di = self.person("吴迪", dt.date(1999, 2, 2), seed=6)  # failed face check online
        self.teacher = self.person("郑老师", dt.date(1975, 5, 5), seed=7)

        self.c1 = self.klass("C2026-001", self.inst_a, CHEF, "4", Decimal(12), DAYS[0], DAYS[-1])
        self.c2 = self.klass("C2026-002", self.inst_a, HOUSEKEEPING, "5", Decimal(2), DAYS[0], DAYS[0])
        self.c3 = self.klass(
            "C2026-003", self.inst_b, HOUSEKEEPING, "5", Decimal(8), dt.date(2026, 4, 1), dt.date(2026, 4, 2)
        )
        for day in DAYS:
            Lesson.objects.create(
                training_class=self.c1,
                date=day,
                start_time=dt.time(8),
                end_time=dt.time(12),
                hours=4,
                mode=Lesson.Mode.OFFLINE,
                teacher=self.teacher,
            )
        # the same teacher in C2026-002 while teaching C2026-001
        Lesson.objects.create(
            training_class=self.c2,
            date=DAYS[0],
            start_time=dt.time(9),
            end_time=dt.time(11),
            hours=2,
            mode=Lesson.Mode.OFFLINE,
            teacher=self.teacher,
        )
        for p in (self.li_ming, self.wang_fang, self.zhao_lei, self.sun_hao, self.wu_di):
            Enrollment.objects.create(training_class=self.c1, person=p, category="POVERTY_MONITORED")
        Enrollment.objects.create(
            training_class=self.c1, person=self.zhou_min, category="REGISTERED_UNEMPLOYED"
        )
        Enrollment.objects.create(training_class=self.c2, person=self.li_ming, category="POVERTY_MONITORED")

        # 李明 attends every C2026-001 lesson, sits the exam — and is in C2026-002 at the same time
        for day in DAYS:
            AttendanceRecord.objects.create(
                training_class=self.c1,
                person=self.li_ming,
                check_in=at(day, "07:55"),
                check_out=at(day, "12:05"),
                method="FACE",
                photo_sha256=f"{day:%d}" * 32,
                lat=40.842,
                lon=111.749,
            )
        ExamResult.objects.create(
            training_class=self.c1, person=self.li_ming, exam_date=DAYS[-1], passed=True
        )
        AttendanceRecord.objects.create(
            training_class=self.c2,
            person=self.li_ming,
            check_in=at(DAYS[0], "09:00"),
            check_out=at(DAYS[0], "11:00"),
            method="CARD",
        )
        OnlineSession.objects.create(
            training_class=self.c1,
            person=self.wu_di,
            platform_code="NMG-ONLINE-01",
            start_at=at(DAYS[0], "19:00"),
            end_at=at(DAYS[0], "19:45"),
            ip="111.56.7.8",
            face_checks_passed=1,
        )
        OnlineSession.objects.create(
            training_class=self.c1,
            person=self.wu_di,
            platform_code="NMG-ONLINE-01",
            start_at=at(DAYS[1], "19:00"),
            end_at=at(DAYS[1], "19:30"),
            ip="111.56.7.8",
            face_checks_passed=1,
            face_checks_failed=2,
        )

        old_deaths = self.snapshot("death", [(self.zhao_lei, {"date_from": dt.date(2026, 3, 1)})])
        new_deaths = self.snapshot("death", [(self.wang_fang, {"date_from": dt.date(2026, 3, 1)})])
        assert new_deaths.pk > old_deaths.pk
        self.snapshot("unemployment_registration", [(self.zhou_min, {"date_from": dt.date(2025, 11, 1)})])
        HistoryTraining.objects.create(
            id_hmac=self.hmac(self.zhou_min),
            id_masked=self.zhou_min.id_masked,
            name=self.zhou_min.name,
            occupation_code=CHEF,
            level="4",
            training_type="EMPLOYMENT",
            completed_on=dt.date(2024, 6, 30),
            institution_code="52150100MJY000001X",
            subsidy_amount=Decimal("1600.00"),
        )

    def person(self, name, birth, seed):
        id_number = new_id_number("150102", birth, True, seed=seed)
        person, _ = person_register(id_number=id_number, name=name, actor=None)
        self.ids[person.pk] = id_number
        return person

    def hmac(self, person) -> str:
        return id_lookup_hash(self.ids[person.pk])

    def klass(self, code, institution, occupation, level, hours, start, end):
        return TrainingClass.objects.create(
            code=code,
            institution=institution,
            area=institution.area,
            occupation_code=occupation,
            occupation_name="",
            level=level,
            training_type="EMPLOYMENT",
            start_date=start,
            end_date=end,
            total_hours=hours,
            site_lat=40.842,
            site_lon=111.749,
            source=TrainingClass.Source.IMPORT,
        )

    def snapshot(self, kind, rows):
        snap = RegistrySnapshot.objects.create(
            kind=kind, file_name=f"{kind}.csv", sha256="0" * 64, row_count=len(rows)
        )
        for line, (person, values) in enumerate(rows, start=2):
            number = self.ids[person.pk]
            RegistryRow.objects.create(
                snapshot=snap,
                kind=kind,
                line=line,
                id_hmac=id_lookup_hash(number),
                id_masked=mask_id_number(number),
                name=person.name,
                **values,
            )
        return snap

    def expected(self) -> set[tuple[str, str, str]]:
        teacher, li_ming = self.hmac(self.teacher), self.hmac(self.li_ming)
        return {
            ("DECEASED", "C2026-001", self.hmac(self.wang_fang)),
            ("AGE_UNDER_16", "C2026-001", self.hmac(self.sun_hao)),
            ("REPEAT_TRAINING", "C2026-001", self.hmac(self.zhou_min)),
            ("ONLINE_FACE_FAILED", "C2026-001", self.hmac(self.wu_di)),
            ("OVERLAPPING_CLASSES", "C2026-001", li_ming),
            ("OVERLAPPING_CLASSES", "C2026-002", li_ming),
            ("TEACHER_DOUBLE_BOOKED", "C2026-001", teacher),
            ("TEACHER_DOUBLE_BOOKED", "C2026-002", teacher),
            ("OUT_OF_SCOPE", "C2026-002", ""),
            ("INSTITUTION_NOT_LISTED", "C2026-003", ""),
        }


@pytest.fixture
def scene(reference_data) -> Scene:
    return Scene()


def test_run_python_finds_the_planted_hits_and_nothing_else(scene, django_assert_max_num_queries):
    with django_assert_max_num_queries(20):
        hits = run_python()
    assert {h.key for h in hits} == scene.expected()
    assert hits == sorted(hits)
    deceased = next(h for h in hits if h.rule_code == "DECEASED")
    assert deceased.evidence == "公安死亡信息：死亡日期2026-03-01，早于开班日期2026-03-10"


def test_run_python_on_one_class_reports_that_class_only(scene):
    hits = run_python(class_ids=[scene.c2.pk])
    assert {h.key for h in hits} == {k for k in scene.expected() if k[1] == "C2026-002"}


def test_batches_of_one_class_give_the_same_hits(scene):
    assert run_python(batch_size=1) == run_python()


def test_run_python_uses_the_given_params(scene):
    hits = run_python(params=RuleParams(lifetime_subsidy_cap=1))
    assert ("LIFETIME_CAP", "C2026-001", scene.hmac(scene.zhou_min)) in {h.key for h in hits}


def test_the_number_of_queries_does_not_grow_with_the_trainees(scene):
    with CaptureQueriesContext(connection) as few:
        load_facts([scene.c1.pk, scene.c2.pk])
    for seed in range(20, 30):
        trainee = scene.person("新学员", dt.date(1990, 1, 1), seed=seed)
        Enrollment.objects.create(training_class=scene.c1, person=trainee, category="GRADUATE")
        AttendanceRecord.objects.create(
            training_class=scene.c1,
            person=trainee,
            check_in=at(DAYS[0], "08:00"),
            check_out=at(DAYS[0], "12:00"),
            method="FACE",
        )
    with CaptureQueriesContext(connection) as many:
        facts = load_facts([scene.c1.pk, scene.c2.pk])
    assert len(many) == len(few)
    assert len(facts.for_class(scene.c1.pk).enrollments) == 16


def test_loaded_directory_status_agrees_with_the_directory_service(scene):
    facts = load_facts([scene.c1.pk, scene.c3.pk])
    assert facts.classes[scene.c1.pk].directory_status == "LISTED"
    assert facts.classes[scene.c3.pk].directory_status == "UNLISTED"
    rows = [(x.effective_date, x.pk, x.status) for x in scene.inst_a.listings.all()]
    for day in (dt.date(2024, 12, 31), dt.date(2025, 1, 1), dt.date(2026, 3, 10)):
        assert directory_status_on(rows, day) == institution_status_on(scene.inst_a, day)


def test_registry_facts_come_from_the_newest_snapshot_only(scene):
    cf = load_facts([scene.c1.pk]).for_class(scene.c1.pk)
    deaths = {r.person for r in cf.registry if r.kind == "death"}
    assert deaths == {scene.hmac(scene.wang_fang)}
    assert isinstance(run_python(class_ids=[scene.c3.pk])[0], Hit)
