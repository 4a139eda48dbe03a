"""Demo classes of 鸿翔 in every state of their life, built through the same services a clerk's
clicks call, each step on its own day (relative to today) so deadlines, overdue reviews and the
archive look as they would in real use.

The services read the time from `timezone.now()`; seeding moves that clock step by step. Nothing
else in peixun does this.
"""

import datetime as dt
import random
from contextlib import contextmanager
from decimal import Decimal
from unittest import mock

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from peixun.accounts.models import User
from peixun.attendance.hours import SHANGHAI
from peixun.attendance.services import AttendanceItem, attendance_append_batch
from peixun.catalog.services import catalog_lookup
from peixun.core.errors import CalendarMissing
from peixun.institutions.models import Institution, Teacher
from peixun.institutions.services import teacher_register
from peixun.training import services
from peixun.training.models import ChangeRequest, ClassDocument, Lesson, TrainingClass

INSTITUTION = "呼和浩特市鸿翔职业技能培训学校"
TRAINEE_AREAS = ("150102", "150103", "150104", "150105")


@contextmanager
def on(day: dt.date, hour: int = 10):
    moment = dt.datetime.combine(day, dt.time(hour), tzinfo=SHANGHAI)
    with mock.patch.object(timezone, "now", lambda: moment):
        yield


def weekdays(start: dt.date, n: int) -> list[dt.date]:
    days, day = [], start
    while len(days) < n:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def seed_lifecycle(*, seed: int, make_id_number, make_name) -> list[TrainingClass]:
    """Idempotent: does nothing once a class applied for in peixun exists."""
    if TrainingClass.objects.filter(source=TrainingClass.Source.SYSTEM).exists():
        return []
    institution = Institution.objects.filter(name=INSTITUTION).first()
    operator = User.objects.filter(username="inst_hongxiang").first()
    reviewer = User.objects.filter(username="xincheng_reviewer").first()
    if institution is None or operator is None or reviewer is None:
        return []
    try:
        return _seed(institution, operator, reviewer, random.Random(seed + 7), make_id_number, make_name)
    except CalendarMissing:
        # Deadlines into a year without a holiday calendar cannot be computed; the region enters it.
        return []


def _seed(institution, operator, reviewer, rng, make_id_number, make_name) -> list[TrainingClass]:
    today = timezone.localdate()
    made = []

    def teacher_for(occupation, name):
        found = Teacher.objects.filter(
            institution=institution, active=True, occupations__code=occupation
        ).first()
        if found is None:
            found = teacher_register(
                id_number=make_id_number(
                    rng, "150102", dt.date(rng.randint(1970, 1988), 3, 8), rng.random() < 0.5
                ),
                name=make_name(rng),
                institution=institution,
                qualification=f"{name}二级/技师，职业技能培训教师资格",
                actor=None,
                occupation_codes=[occupation],
            )
        return found

    def draft(start, occupation, name, level="5", trainees=4, extra=()):
        match = catalog_lookup(
            occupation_code=occupation,
            level=level,
            training_type="EMPLOYMENT",
            area=institution.area,
            on_date=start,
        )
        days = -(-match.entry.min_hours // 8)  # enough 8-hour days to reach the catalog's minimum
        teacher = teacher_for(occupation, name)
        klass = services.class_create(
            institution=institution,
            actor=operator,
            occupation_code=occupation,
            occupation_name=name,
            level=level,
            training_type="EMPLOYMENT",
            start_date=start,
            end_date=weekdays(start, days)[-1],
            total_hours=Decimal(8 * days),
            online_hours=Decimal(0),
            site_address="呼和浩特市新城区新华大街1号 鸿翔培训楼3层",
            site_lat=40.8424,
            site_lon=111.7490,
            planned_size=40,
            teaching_resources=f"《{name}》国家职业技能标准配套教材、讲义；实训室及设备",
            assessment_plan="理论考试（闭卷60分钟）与实操考核（30分钟），各60分及以上为合格",
        )
        modules = [("职业道德与安全知识", 16), ("基础知识", 8 * days // 3), ("操作技能实训", 0)]
        modules[2] = ("操作技能实训", 8 * days - 16 - modules[1][1])
        for title, hours in modules:
            services.module_add(
                training_class=klass,
                actor=operator,
                name=title,
                hours=Decimal(hours),
                mode=Lesson.Mode.OFFLINE,
            )
        for day in weekdays(start, days):
            for begin, end in ((dt.time(8, 30), dt.time(11, 30)), (dt.time(14, 0), dt.time(17, 0))):
                services.lesson_add(
                    training_class=klass,
                    actor=operator,
                    date=day,
                    start_time=begin,
                    end_time=end,
                    hours=Decimal(4),
                    mode=Lesson.Mode.OFFLINE,
                    teacher=teacher,
                )
        for _ in range(trainees):
            area = rng.choice(TRAINEE_AREAS)
            birth = dt.date(rng.randint(1970, 2003), rng.randint(1, 12), rng.randint(1, 28))
            services.roster_add(
                training_class=klass,
                actor=operator,
                id_number=make_id_number(rng, area, birth, rng.random() < 0.5),
                name=make_name(rng),
                category=rng.choice(
                    ["RURAL_MIGRANT", "REGISTERED_UNEMPLOYED", "GRADUATE", "EMPLOYMENT_DIFFICULTY"]
                ),
                phone=f"139{rng.randrange(10**7, 10**8)}",
            )
        for person in extra:
            services.roster_add(
                training_class=klass,
                actor=operator,
                id_number=person.reveal_id_number(),
                name=person.name,
                category="RURAL_MIGRANT",
                phone=person.phone,
            )
        for kind in (ClassDocument.Kind.INSTITUTION_UNDERTAKING, ClassDocument.Kind.TRAINEE_UNDERTAKING):
            services.document_upload(
                training_class=klass,
                actor=operator,
                kind=kind,
                title=ClassDocument.Kind(kind).label,
                upload=SimpleUploadedFile(f"{kind.lower()}.pdf", f"%PDF-1.4 {klass.code} {kind}".encode()),
            )
        made.append(klass)
        return klass

    def attend(klass, until: dt.date):
        items = []
        for enrollment in klass.enrollments.select_related("person"):
            for lesson in klass.lessons.filter(date__lt=until):
                start = dt.datetime.combine(lesson.date, lesson.start_time, tzinfo=SHANGHAI)
                end = dt.datetime.combine(lesson.date, lesson.end_time, tzinfo=SHANGHAI)
                items.append(
                    AttendanceItem(
                        person=enrollment.person,
                        check_in=start - dt.timedelta(minutes=rng.randint(2, 12)),
                        check_out=end + dt.timedelta(minutes=rng.randint(1, 9)),
                        method="FACE",
                        lat=40.8424 + rng.uniform(-0.001, 0.001),
                        lon=111.7490 + rng.uniform(-0.001, 0.001),
                    )
                )
        attendance_append_batch(training_class=klass, items=items, source="DEVICE")

    def submit_and_approve(klass, submitted: dt.date, approved: dt.date | None):
        with on(submitted):
            services.opening_submit(training_class=klass, actor=operator)
        if approved:
            with on(approved, 15):
                services.opening_approve(training_class=klass, actor=reviewer, reason="材料齐全，同意开班")

    def trained_and_examined(klass, end_day: dt.date):
        with on(end_day + dt.timedelta(days=1), 9):
            attend(klass, end_day + dt.timedelta(days=1))
            for n, enrollment in enumerate(klass.enrollments.order_by("pk")):
                services.exam_record(
                    enrollment=enrollment,
                    actor=operator,
                    exam_date=end_day + dt.timedelta(days=1),
                    score=Decimal(rng.randint(62, 96)),
                    passed=n != 1,  # one trainee fails the exam: no certificate, no subsidy
                )

    # 1. 草稿
    with on(today - dt.timedelta(days=1)):
        draft(today + dt.timedelta(days=24), "4-10-01-06", "家政服务员")
    # 2. 开班待审核, due soon
    with on(today - dt.timedelta(days=3)):
        klass = draft(today + dt.timedelta(days=21), "4-03-02-01", "中式烹调师")
    submit_and_approve(klass, today - dt.timedelta(days=3), None)
    # 3. 开班待审核, overdue → escalated to the city
    with on(today - dt.timedelta(days=12)):
        klass = draft(today + dt.timedelta(days=14), "4-03-02-02", "中式面点师")
    submit_and_approve(klass, today - dt.timedelta(days=11), None)
    # 4. 退回补正
    with on(today - dt.timedelta(days=10)):
        klass = draft(today + dt.timedelta(days=17), "4-10-01-03", "育婴员")
    submit_and_approve(klass, today - dt.timedelta(days=9), None)
    with on(today - dt.timedelta(days=7), 16):
        services.review_return(
            training_class=klass,
            actor=reviewer,
            deficiencies=[
                "实训场地租赁合同已过期，请补充续签合同",
                "学员承诺书中2人未签字，请补签后重新上传",
            ],
        )
    # 5. 不予批准
    with on(today - dt.timedelta(days=30)):
        klass = draft(today - dt.timedelta(days=12), "4-10-01-06", "家政服务员", level="4")
    submit_and_approve(klass, today - dt.timedelta(days=28), None)
    with on(today - dt.timedelta(days=26), 11):
        services.opening_reject(
            training_class=klass,
            actor=reviewer,
            reason="经实地核查，申报的实训场地为在建工程，不具备开班条件",
        )
    # 6. 培训中, with a pending change request
    start = weekdays(today - dt.timedelta(days=8), 1)[0]
    with on(start - dt.timedelta(days=21)):
        klass = draft(start, "4-10-01-05", "养老护理员")
    submit_and_approve(klass, start - dt.timedelta(days=20), start - dt.timedelta(days=18))
    with on(today, 9):
        attend(klass, today)
        services.change_request_create(
            training_class=klass,
            actor=operator,
            kind=ChangeRequest.Kind.MOVE_LESSON,
            payload={
                "lesson": klass.lessons.filter(date__gt=today).order_by("date").first().pk,
                "date": weekdays(klass.end_date + dt.timedelta(days=1), 1)[0].isoformat(),
                "start_time": "08:30",
                "end_time": "11:30",
            },
            reason="授课教师参加自治区技能大赛裁判工作，调课一次",
        )
    # 7. 结业待审核 and 8. 结业退回补正
    for offset, occupation, name, level, returned in (
        (46, "4-10-01-05", "养老护理员", "4", False),
        (52, "4-10-01-06", "家政服务员", "5", True),
    ):
        start = weekdays(today - dt.timedelta(days=offset), 1)[0]
        with on(start - dt.timedelta(days=20)):
            klass = draft(start, occupation, name, level=level)
        submit_and_approve(klass, start - dt.timedelta(days=19), start - dt.timedelta(days=16))
        trained_and_examined(klass, klass.end_date)
        with on(today - dt.timedelta(days=6 if returned else 2)):
            services.completion_submit(training_class=klass, actor=operator)
        if returned:
            with on(today - dt.timedelta(days=4), 16):
                services.review_return(
                    training_class=klass,
                    actor=reviewer,
                    deficiencies=["考试成绩单缺少监考人员签字", "请补充结业考试现场照片"],
                )
    # 9-12. 已结业 with certificates, then the subsidy in four of its states
    completed = []
    for offset, occupation, name in (
        (75, "4-03-02-01", "中式烹调师"),
        (105, "4-10-01-03", "育婴员"),
        (135, "4-03-02-02", "中式面点师"),
        (165, "4-10-01-06", "家政服务员"),
    ):
        start = weekdays(today - dt.timedelta(days=offset), 1)[0]
        # The demo trainee is in the newest completed class: 我的培训 shows a certificate and a subsidy.
        demo_trainee = User.objects.filter(username="trainee_demo").select_related("person").first()
        extra = [demo_trainee.person] if offset == 75 and demo_trainee and demo_trainee.person else []
        with on(start - dt.timedelta(days=20)):
            klass = draft(start, occupation, name, trainees=3 if extra else 4, extra=extra)
        submit_and_approve(klass, start - dt.timedelta(days=19), start - dt.timedelta(days=17))
        trained_and_examined(klass, klass.end_date)
        with on(klass.end_date + dt.timedelta(days=3)):
            services.completion_submit(training_class=klass, actor=operator)
        with on(klass.end_date + dt.timedelta(days=5), 15):
            from peixun.certificates.completion import completion_approve_and_certify

            completion_approve_and_certify(
                training_class=klass,
                actor=reviewer,
                material_review="开班批复、花名册、考勤表、考试成绩及试卷齐全",
                crosscheck_review="与公安死亡、财政供养、社保、工商数据比对，未发现异常",
                onsite_check="培训期间现场抽查1次，在训人数与考勤一致",
            )
        completed.append(klass)
    _subsidies(completed, operator, reviewer, today)
    return made


def _subsidies(completed, operator, reviewer, today) -> None:
    """D (oldest) paid; C payable; B in 公示 with an objection; A (newest) waiting for review."""
    from peixun.subsidies.models import Payment, SubsidyLine
    from peixun.subsidies.services import (
        notices_close,
        objection_lodge,
        payment_record,
        subsidy_apply,
        subsidy_approve,
    )

    finance = User.objects.filter(username="xincheng_finance").first()
    a, b, c, d = completed
    account = {
        "payee_name": INSTITUTION,
        "payee_account": "1502 0211 0900 0123 456",
        "payee_bank": "中国工商银行呼和浩特新华支行",
    }

    def apply(klass, day):
        with on(day):
            return subsidy_apply(training_class=klass, actor=operator, **account).application

    def approve(application, day):
        with on(day, 15):
            subsidy_approve(application=application, actor=reviewer, reason="经审核，符合补贴条件")

    for klass in (d, c):
        application = apply(klass, klass.end_date + dt.timedelta(days=10))
        approve(application, klass.end_date + dt.timedelta(days=13))
        application.refresh_from_db()
        notices_close(today=application.notice_end + dt.timedelta(days=1))
        if klass is d and finance is not None:
            paid_on = application.notice_end + dt.timedelta(days=4)
            lines = list(application.lines.filter(status=SubsidyLine.Status.PAYABLE))
            with on(paid_on, 11):
                payment_record(
                    application=application,
                    lines=lines,
                    actor=finance,
                    payee_kind=Payment.PayeeKind.INSTITUTION_ACCOUNT,
                    payee_name=account["payee_name"],
                    payee_account=account["payee_account"],
                    voucher_no=f"NMCZ{paid_on:%Y%m%d}0017",
                    paid_on=paid_on,
                    amount=sum((line.amount for line in lines), Decimal(0)),
                    outcome=Payment.Outcome.PAID,
                )
    application = apply(b, today - dt.timedelta(days=9))
    approve(application, today - dt.timedelta(days=2))
    line = application.lines.filter(status=SubsidyLine.Status.NOTICE).first()
    if line is not None:
        with on(today, 9):
            objection_lodge(
                line=line,
                name="刘女士",
                phone="13904710000",
                content="该学员培训期间在外地务工，未实际参加培训，请核实。",
            )
    apply(a, today - dt.timedelta(days=2))
