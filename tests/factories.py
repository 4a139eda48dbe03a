"""A class on its way through the lifecycle, built only through the services, and a clock to move
through its weeks. Tests of the lifecycle, certificates, subsidies and the demo use it instead of
building institutions, catalogs and classes by hand.

鸿翔 (新城区, listed since 2026-01-01, licensed for 养老护理员) runs a 养老护理员 五级 class: two
offline days of 8 class hours and 4 online hours on a filed platform, total 20; 李明 and 陈静 on the
roster, teacher 高老师.
"""

import datetime as dt
import io
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from peixun.accounts.roles import Role
from peixun.accounts.services import user_create
from peixun.attendance.hours import SHANGHAI
from peixun.attendance.services import (
    AttendanceItem,
    OnlineItem,
    attendance_append_batch,
    online_sessions_append_batch,
)
from peixun.catalog.services import CATALOG_COLUMNS, CATALOG_OPTIONAL, catalog_create, catalog_import_entries
from peixun.core.models import Area
from peixun.core.tabular import read_table
from peixun.institutions.services import (
    assessment_record,
    directory_change,
    institution_register,
    teacher_register,
)
from peixun.intake.models import Platform
from peixun.training import services
from peixun.training.models import ClassDocument, Lesson, TrainingClass
from tests.conftest import PASSWORD, new_id_number
from tests.test_findings_ui import uscc

OCCUPATION = "4-10-01-05"  # 养老护理员
OCCUPATION_NAME = "养老护理员"
AMOUNT = Decimal("1500")


class Clock:
    """Moves `timezone.now()` (and with it `localdate()`) for the services under test."""

    def __init__(self, monkeypatch):
        self._monkeypatch = monkeypatch
        self._real_now = timezone.now

    def travel(self, day: dt.date, hour: int = 10) -> None:
        moment = dt.datetime.combine(day, dt.time(hour), tzinfo=SHANGHAI)
        self._monkeypatch.setattr(timezone, "now", lambda: moment)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)


class Lifecycle:
    def __init__(
        self, world, *, uscc_body: str = "52150102MJY000031", area_code: str = "150102", username="hx_ops"
    ):
        self.world = world
        area = Area.objects.get(code=area_code)
        self.area = area
        self.institution = institution_register(
            code=uscc(uscc_body),
            name="呼和浩特市鸿翔职业技能培训学校",
            type="PRIVATE_SCHOOL",
            area=area,
            actor=world.hohhot_admin,
            licensed_occupation_codes=[OCCUPATION],
            address="呼和浩特市新城区新华大街1号",
        )
        assessment_record(
            institution=self.institution,
            actor=world.hohhot_admin,
            assessed_on=dt.date(2025, 12, 20),
            assessors="张海燕、赵晓东",
            premises_ok=True,
            equipment_ok=True,
            teachers_ok=True,
        )
        directory_change(
            institution=self.institution,
            transition="list",
            actor=world.hohhot_admin,
            effective_date=dt.date(2026, 1, 1),
            reason="实地考察通过",
        )
        self.operator = user_create(
            username=username,
            password=PASSWORD,
            role=Role.INSTITUTION_OPERATOR,
            display_name="马文华",
            organisation=self.institution.organisation,
            actor=None,
        )
        self.teacher = teacher_register(
            id_number=new_id_number("150102", dt.date(1975, 5, 5), True, seed=901),
            name="高志远",
            institution=self.institution,
            qualification="养老护理员一级/高级技师，高校教师资格证",
            actor=world.hohhot_admin,
            occupation_codes=[OCCUPATION],
        )
        self.platform = Platform.objects.create(
            organisation=world.region,
            filed_with=Area.objects.get(code="150000"),
            name="北疆技能在线",
            operator_name="内蒙古北疆在线教育科技有限公司",
            uscc=uscc("91150100MA0000001"),
            address="呼和浩特市赛罕区",
            website="https://example.invalid",
            contact_name="周",
            contact_phone="0471-1234567",
            security_level="3",
            security_cert_no="15010099999-00001",
            stability_info="双机热备",
            status=Platform.Status.APPROVED,
            code="BJJN",
        )
        ensure_catalog(world)

    def draft(self, *, start: dt.date, trainees=None, online: bool = True) -> TrainingClass:
        """A complete draft starting on `start` (two offline days, online hours on the first)."""
        second = start + dt.timedelta(days=1)
        total, online_hours = (Decimal("20"), Decimal("4")) if online else (Decimal("16"), Decimal("0"))
        klass = services.class_create(
            institution=self.institution,
            actor=self.operator,
            occupation_code=OCCUPATION,
            occupation_name=OCCUPATION_NAME,
            level="5",
            training_type="EMPLOYMENT",
            start_date=start,
            end_date=second,
            total_hours=total,
            online_hours=online_hours,
            site_address="呼和浩特市新城区新华大街1号",
            site_lat=40.8424,
            site_lon=111.7490,
            planned_size=30,
            teaching_resources="《养老护理员》国家职业技能标准配套教材；实训床位6张",
            assessment_plan="理论考试60分钟，实操考核30分钟，60分合格",
        )
        services.module_add(
            training_class=klass,
            actor=self.operator,
            name="生活照料",
            hours=Decimal("16"),
            mode=Lesson.Mode.OFFLINE,
        )
        for day in (start, second):
            for begin, end in ((dt.time(8, 0), dt.time(11, 0)), (dt.time(14, 0), dt.time(17, 0))):
                services.lesson_add(
                    training_class=klass,
                    actor=self.operator,
                    date=day,
                    start_time=begin,
                    end_time=end,
                    hours=Decimal("4"),
                    mode=Lesson.Mode.OFFLINE,
                    teacher=self.teacher,
                )
        if online:
            services.module_add(
                training_class=klass,
                actor=self.operator,
                name="职业道德与安全（线上）",
                hours=Decimal("4"),
                mode=Lesson.Mode.ONLINE,
                platform=self.platform,
            )
            services.lesson_add(
                training_class=klass,
                actor=self.operator,
                date=start,
                start_time=dt.time(19, 0),
                end_time=dt.time(22, 0),
                hours=Decimal("4"),
                mode=Lesson.Mode.ONLINE,
            )
        people = trainees if trainees is not None else [self.world.li_ming, self.world.chen_jing]
        for person in people:
            services.roster_add(
                training_class=klass,
                actor=self.operator,
                id_number=person.reveal_id_number(),
                name=person.name,
                category="RURAL_MIGRANT",
            )
        for kind in (ClassDocument.Kind.INSTITUTION_UNDERTAKING, ClassDocument.Kind.TRAINEE_UNDERTAKING):
            services.document_upload(
                training_class=klass,
                actor=self.operator,
                kind=kind,
                title=ClassDocument.Kind(kind).label,
                upload=SimpleUploadedFile(f"{kind.lower()}.pdf", b"%PDF-1.4 signed undertaking"),
            )
        return klass

    def attend(self, klass: TrainingClass, person, *, days=None, online_minutes: int = 180) -> None:
        """Full attendance of every offline lesson (or those on `days`) and the online lesson."""
        items = []
        for lesson in klass.lessons.filter(mode=Lesson.Mode.OFFLINE):
            if days is not None and lesson.date not in days:
                continue
            start = dt.datetime.combine(lesson.date, lesson.start_time, tzinfo=SHANGHAI) - dt.timedelta(
                minutes=5
            )
            end = dt.datetime.combine(lesson.date, lesson.end_time, tzinfo=SHANGHAI) + dt.timedelta(minutes=5)
            items.append(AttendanceItem(person=person, check_in=start, check_out=end, method="FACE"))
        result = attendance_append_batch(training_class=klass, items=items, source="DEVICE")
        assert not result.errors, result.errors
        if online_minutes:
            begin = at(klass.start_date, 19)
            online_sessions_append_batch(
                training_class=klass,
                platform_code=self.platform.code,
                source="PLATFORM",
                items=[
                    OnlineItem(
                        person=person,
                        start_at=begin,
                        end_at=begin + dt.timedelta(minutes=online_minutes),
                        ip="10.1.2.3",
                        face_checks_passed=3,
                        face_checks_failed=0,
                    )
                ],
            )


def ensure_catalog(world) -> None:
    from peixun.catalog.models import SubsidyCatalog

    if SubsidyCatalog.objects.filter(area__code="150000").exists():
        return
    catalog = catalog_create(
        area=Area.objects.get(code="150000"),
        title="自治区2026年职业培训补贴目录",
        valid_from=dt.date(2026, 1, 1),
        actor=None,
    )
    text = (
        "occupation_code,level,training_type,subsidy_amount,min_hours\n"
        + f"{OCCUPATION},5,EMPLOYMENT,{AMOUNT},16\n"
    )
    table = read_table(
        io.BytesIO(text.encode()),
        filename="catalog_entries.csv",
        required=CATALOG_COLUMNS,
        optional=CATALOG_OPTIONAL,
    )
    catalog_import_entries(catalog=catalog, table=table, actor=None)
