"""Demo supervision in 呼和浩特, built through the same services a clerk's clicks call, each step on its
own day relative to today: a draw cancelled before drawing, a past draw whose inspections are done and
public (seed revealed), a recent class draw still being inspected, a draw committed and waiting; a phone
check that found a trainee who never attended; a 刷课 case removed from the directory, fined, handed to
网信 and failed at the annual inspection; recovery of a subsidy paid; joint enforcement; staff training.

`seed_supervision()` is idempotent: it does nothing once a draw exists.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from contextlib import contextmanager
from decimal import Decimal
from unittest import mock

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from peixun.accounts.models import Organisation, User
from peixun.accounts.roles import Role
from peixun.accounts.services import user_create
from peixun.attendance.hours import SHANGHAI
from peixun.core.errors import PeixunError
from peixun.institutions.models import Institution
from peixun.subsidies.models import SubsidyLine

from . import services as sv
from .models import (
    CheckItem,
    Draw,
    Inspection,
    InspectionItem,
    Inspector,
    PhoneCheck,
    SanctionKind,
    ViolationType,
)

HOHHOT_INSTITUTIONS = (
    "呼和浩特市鸿翔职业技能培训学校",
    "呼和浩特市青城电子商务职业培训学校",
    "内蒙古机电职业技术学院",
)
COUNTY_INSPECTORS = (
    ("xincheng_inspector", "韩磊", "新城区就业服务中心"),
    ("huimin_inspector", "白雪", "回民区就业服务中心"),
)
OK = InspectionItem.Result.OK


@contextmanager
def _on(day: dt.date, hour: int = 10):
    """The services read the clock from timezone.now(); seeding moves it step by step."""
    moment = dt.datetime.combine(day, dt.time(hour), tzinfo=SHANGHAI)
    with mock.patch.object(timezone, "now", lambda: moment):
        yield


def _photo(rng: random.Random, name: str) -> SimpleUploadedFile:
    """A stand-in site photo: a classroom drawn as blocks (no real person appears in demo data)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 480), (228, 232, 236))
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 30, 600, 150), fill=(46, 92, 62))  # blackboard
    for row in range(3):
        for col in range(4):
            x, y = 60 + col * 140, 200 + row * 85
            draw.rectangle((x, y, x + 100, y + 40), fill=(150 + rng.randint(0, 40), 110, 70))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=70)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def _items(**problems) -> dict:
    items = {code: (OK, "") for code in CheckItem.values}
    for code, note in problems.items():
        items[code] = (InspectionItem.Result.PROBLEM, note)
    return items


def _user_of(inspection: Inspection) -> User | None:
    found = inspection.inspectors.exclude(user=None).select_related("user").first()
    return found.user if found else None


def seed_supervision(*, password: str, seed: int = 2026) -> dict[str, int]:
    """Past draws, inspections, sanctions, recovery, integrity records and hand-over for the demo.
    Returns what it made, by kind; an empty dict when there was nothing to do or nobody to do it."""
    if Draw.objects.exists():
        return {}
    admin = User.objects.filter(username="hohhot_admin").first()
    institutions = {i.name: i for i in Institution.objects.filter(name__in=HOHHOT_INSTITUTIONS)}
    if admin is None or len(institutions) < len(HOHHOT_INSTITUTIONS):
        return {}
    rng = random.Random(seed + 25)
    today = timezone.localdate()
    for username, name, org_name in COUNTY_INSPECTORS:
        org = Organisation.objects.filter(name=org_name).first()
        if org is not None and not User.objects.filter(username=username).exists():
            user_create(
                username=username,
                password=password,
                role=Role.INSPECTOR,
                display_name=name,
                organisation=org,
                actor=None,
            )
    hongxiang = institutions["呼和浩特市鸿翔职业技能培训学校"]
    qingcheng = institutions["呼和浩特市青城电子商务职业培训学校"]
    college = institutions["内蒙古机电职业技术学院"]
    made = {"draws": 0, "inspections": 0, "violations": 0, "sanctions": 0}

    start = today - dt.timedelta(days=80)
    with _on(start, 9):
        sv.inspector_roster_sync(area=admin.organisation.area, actor=admin)
        sv.expert_register(
            actor=admin,
            name="敖日格勒",
            organisation=college.organisation,
            speciality="机电一体化、焊接实训安全",
        )
        han = Inspector.objects.filter(user__username="xincheng_inspector").first()
        if han is not None:
            sv.conflict_declare(
                actor=han.user, inspector=han, institution=qingcheng, reason="配偶在该校担任兼职教师"
            )
        # 作废: a draw set up on the wrong pool is cancelled before drawing, and stays public
        wrong = sv.draw_create(
            actor=admin,
            title=f"{start.year}年第三季度在训班级双随机抽查",
            target_kind=Draw.TargetKind.INSTITUTION,
            inspection_due=start + dt.timedelta(days=30),
        )
    with _on(start, 10):
        sv.draw_cancel(
            draw=wrong,
            actor=admin,
            reason="抽查对象误选为“目录内培训机构”，应为“在训培训班”以外的专项抽查，重新组织",
        )
    made["draws"] += 1

    # a past draw: inspected, rectified, published, seed revealed
    with _on(start + dt.timedelta(days=1), 9):
        past = sv.draw_create(
            actor=admin,
            title=f"{start.year}年第三季度培训机构双随机抽查",
            target_kind=Draw.TargetKind.INSTITUTION,
            sample_share=Decimal("0.5"),
            stratify=True,
            high_risk_threshold=Decimal("10"),
            high_risk_share=Decimal("1"),
            inspection_due=start + dt.timedelta(days=30),
        )
    with _on(start + dt.timedelta(days=1), 15):
        sv.draw_execute(draw=past, actor=admin)
    made["draws"] += 1
    for n, inspection in enumerate(
        Inspection.objects.filter(draw_target__draw=past).order_by("draw_target__rank")
    ):
        user = _user_of(inspection)
        if user is None:
            continue
        day = start + dt.timedelta(days=6 + 2 * n)
        with _on(day, 10):
            sv.inspection_photo_add(
                inspection=inspection, actor=user, upload=_photo(rng, "classroom.jpg"), caption="理论教室"
            )
            if n % 2 == 0:
                sv.inspection_record(
                    inspection=inspection,
                    actor=user,
                    inspected_on=day,
                    items=_items(),
                    outcome=Inspection.Outcome.PASS,
                    summary="教学场地、设施设备与备案一致；抽查在训学员身份与花名册相符；实训室消防器材齐全。",
                    place=inspection.institution.address,
                )
            else:
                sv.inspection_photo_add(
                    inspection=inspection,
                    actor=user,
                    upload=_photo(rng, "workshop.jpg"),
                    caption="实训室：灭火器过期",
                )
                sv.inspection_record(
                    inspection=inspection,
                    actor=user,
                    inspected_on=day,
                    items=_items(SAFETY="实训室灭火器已过有效期，未张贴安全操作规程"),
                    outcome=Inspection.Outcome.RECTIFY,
                    summary="教学秩序正常，实训安全存在隐患。",
                    place=inspection.institution.address,
                    follow_up="更换过期灭火器，张贴实训安全操作规程，组织一次安全培训",
                    follow_up_due=day + dt.timedelta(days=10),
                )
        inspection.refresh_from_db()
        if inspection.status == Inspection.Status.FOLLOW_UP:
            operator = User.objects.filter(
                organisation=inspection.institution.organisation, is_active=True
            ).first()
            if operator is not None:
                with _on(day + dt.timedelta(days=7), 16):
                    sv.rectification_submit(
                        actor=operator,
                        inspection=inspection,
                        text="已更换灭火器4具，张贴实训安全操作规程，并于本周组织全体学员安全培训1学时。",
                    )
            with _on(day + dt.timedelta(days=9), 11):
                sv.inspection_close(inspection=inspection, actor=user, note="经现场复查，整改到位。")
        with _on(day + dt.timedelta(days=3), 9):
            sv.inspection_publish(inspection=inspection, actor=admin)
        made["inspections"] += 1

    # a phone check of 鸿翔's paid class finds a trainee who never attended
    paid = (
        SubsidyLine.objects.filter(application__institution=hongxiang, status=SubsidyLine.Status.PAID)
        .select_related("enrollment__training_class")
        .order_by("id")
    )
    line = paid.first()
    suna = Inspector.objects.filter(user__username="hohhot_inspector").first()
    if line is not None and suna is not None:
        klass = line.enrollment.training_class
        day = start + dt.timedelta(days=12)
        with _on(day, 9):
            phone = sv.inspection_plan(
                actor=suna.user,
                kind=Inspection.Kind.PHONE,
                institution=hongxiang,
                training_class=klass,
                inspectors=[suna],
            )
        with _on(day, 14):
            for e in klass.enrollments.filter(removed_at__isnull=True).order_by("id")[:4]:
                never = e.pk == line.enrollment_id
                sv.phone_check_record(
                    inspection=phone,
                    actor=suna.user,
                    enrollment=e,
                    reached=True,
                    attended=PhoneCheck.Attended.NO if never else PhoneCheck.Attended.YES,
                    taught="没去上过课，机构让我签了名" if never else "老人生活照料、翻身和喂食的实操",
                    matches_plan=False if never else True,
                )
            sv.inspection_record(
                inspection=phone,
                actor=suna.user,
                inspected_on=day,
                items={
                    **{c: (InspectionItem.Result.NOT_CHECKED, "") for c in CheckItem.values},
                    CheckItem.ELIGIBILITY: (
                        InspectionItem.Result.PROBLEM,
                        f"学员{line.person.name}称未参加培训",
                    ),
                    CheckItem.PLAN: (OK, "其余学员所述内容与教学计划相符"),
                },
                outcome=Inspection.Outcome.VIOLATION,
                summary=f"电话抽查4名学员，{line.person.name}称未参加培训、只被要求签名，考勤记录显示全勤。",
            )
        made["inspections"] += 1
        with _on(day + dt.timedelta(days=3), 10):
            case = sv.violation_record(
                actor=admin,
                institution=hongxiang,
                type=ViolationType.FALSE_ATTENDANCE,
                description=f"{klass.code}班学员{line.person.name}未参加培训，考勤记录由他人代签，已领取培训补贴。",
                found_on=day,
                inspection=phone,
                responsible_name="马文华",
                responsible_role="教务负责人",
            )
            sv.sanction_decide(
                violation=case,
                actor=admin,
                kind=SanctionKind.INTERVIEW,
                decided_on=day + dt.timedelta(days=3),
                document_no=f"呼人社监约〔{day.year}〕3号",
                content="约谈机构法定代表人和教务负责人，责令说明情况。",
            )
            recovery = sv.recovery_order(
                violation=case,
                actor=admin,
                lines=[line],
                ordered_on=day + dt.timedelta(days=3),
                due_date=day + dt.timedelta(days=33),
                document_no=f"呼人社追字〔{day.year}〕1号",
            )
            sv.inspection_close(inspection=phone, actor=admin, note=f"已立案{case.code}。")
        finance = User.objects.filter(
            role=Role.FINANCE, organisation__area=hongxiang.area, is_active=True
        ).first()
        if finance is not None:
            with _on(day + dt.timedelta(days=20), 11):
                sv.recovery_receive(
                    recovery=recovery,
                    actor=finance,
                    amount=(recovery.amount_due / 2).quantize(Decimal("0.01")),
                    received_on=day + dt.timedelta(days=20),
                    voucher_no=f"JK{day:%Y%m%d}001",
                )
        made["violations"] += 1
        made["sanctions"] += 1

    # 刷课: removed from the directory, fined, handed to 网信, failed at the annual inspection
    day = start + dt.timedelta(days=20)
    with _on(day, 10):
        brushing = sv.violation_record(
            actor=admin,
            institution=qingcheng,
            type=ViolationType.COURSE_BRUSHING,
            description="线上学习记录显示12名学员在同一IP、同一时段同时在线学习，经核查机构使用外挂软件代学员刷取线上学时。",
            found_on=day,
            responsible_name="赵立新",
            responsible_role="法定代表人",
        )
        sv.sanction_decide(
            violation=brushing,
            actor=admin,
            kind=SanctionKind.REMOVE,
            decided_on=day,
            document_no=f"呼人社发〔{day.year}〕41号",
            content="移出政府补贴性培训机构目录（第二十二条）。",
        )
        penalty = sv.sanction_decide(
            violation=brushing,
            actor=admin,
            kind=SanctionKind.PENALTY,
            decided_on=day,
            document_no=f"呼人社罚字〔{day.year}〕7号",
            content="依法给予罚款的行政处罚。",
            fine_amount=Decimal("20000"),
        )
        sv.clue_transfer_send(
            actor=admin,
            department="CYBERSPACE",
            recipient="呼和浩特市委网信办",
            summary="该机构使用外挂软件刷取线上学时，涉及的刷课软件在网络上公开售卖，请依职责处理。",
            sent_on=day,
            violation=brushing,
        )
        sv.joint_enforcement_record(
            actor=admin,
            held_on=day,
            departments=["PUBLIC_SECURITY", "MARKET_REGULATION"],
            partner_units="赛罕区公安分局、赛罕区市场监督管理局",
            place=qingcheng.address or "赛罕区",
            institutions=[qingcheng],
            summary="联合检查该机构办学场所和线上学习设备，调取刷课软件安装记录和学员线上学习数据。",
            outcome="固定证据，市场监管部门对其虚假宣传另案处理。",
        )
        sv.annual_inspection_decide(
            institution=qingcheng,
            year=day.year,
            actor=admin,
            result="FAIL",
            reasons="组织学员使用外挂软件刷课（第二十条），年度检查不合格。",
        )
    with _on(day + dt.timedelta(days=25), 10):
        sv.sanction_end(
            sanction=penalty,
            actor=admin,
            how="complete",
            ended_on=day + dt.timedelta(days=25),
            note="罚款已缴清（缴款书）",
        )
    made["violations"] += 1
    made["sanctions"] += 3
    with _on(day + dt.timedelta(days=40), 15):
        sv.annual_inspection_decide(
            institution=college,
            year=day.year - 1,
            actor=admin,
            result="PASS",
            reasons="办学条件、师资与备案一致，全年检查未发现问题。",
        )

    # staff training (第二十四条)
    staff = list(
        User.objects.filter(
            is_active=True,
            role__in=[Role.CITY_ADMIN, Role.REVIEWER, Role.FINANCE, Role.INSPECTOR],
            organisation__area__in=[admin.organisation.area, hongxiang.area],
        )
    )
    for offset, title, topic, form in (
        (70, "职业技能培训补贴政策和《管理办法》解读", "POLICY", "集中授课"),
        (30, "监督检查系统操作：双随机抽查与手机检查录入", "SYSTEM", "上机实操"),
    ):
        with _on(today - dt.timedelta(days=offset), 14):
            sv.staff_training_record(
                actor=admin,
                title=title,
                topic=topic,
                held_on=today - dt.timedelta(days=offset),
                hours=Decimal("3"),
                form=form,
                attendees=staff,
                teacher="张海燕",
            )

    # a recent class draw being inspected, and a draw committed and waiting
    with _on(today - dt.timedelta(days=3), 9):
        try:
            recent = sv.draw_create(
                actor=admin,
                title=f"{today.year}年在训班级双随机抽查（{today.month}月）",
                target_kind=Draw.TargetKind.CLASS,
                inspection_due=today + dt.timedelta(days=20),
            )
        except PeixunError:
            recent = sv.draw_create(
                actor=admin,
                title=f"{today.year}年培训机构双随机抽查（{today.month}月）",
                target_kind=Draw.TargetKind.INSTITUTION,
                inspection_due=today + dt.timedelta(days=20),
            )
    with _on(today - dt.timedelta(days=3), 10):
        sv.draw_execute(draw=recent, actor=admin)
    with _on(today, 9):
        sv.draw_create(
            actor=admin,
            title=f"{today.year}年第四季度培训机构双随机抽查",
            target_kind=Draw.TargetKind.INSTITUTION,
            inspection_due=today + dt.timedelta(days=45),
        )
    made["draws"] += 2
    return made
