"""The declared permissions matrix: for every URL of peixun (pages and the JSON API), how to build its
arguments from one fixture world and what each role must get (tests/test_permissions_matrix.py).

The world: 鸿翔 (新城区, 呼和浩特) ran 养老护理员 五级 class through its whole life — applied for on
2026-09-01, approved, trained 09-14/15 (李明 attended everything; 陈静 was taken off the roster by
an approved change request), examined, completed with 李明's 培训合格证, subsidy applied for and
approved, in 公示 with an objection lodged. 呼和浩特市 drew 鸿翔 for a 双随机 inspection (published, with a
rectification report), plans an unannounced one, and opened a 虚假上课记录 case with a 责令整改, a
recovery and a clue sent to the police. Every object the URLs need hangs off that class or its
institution. Pages are visited on Friday 2026-09-25, during the 公示.

Besides the answer, a list page may declare `secrets`: codes and names of those objects that the
roles named must not find on the page (another county's reviewer, another institution …).

Outcomes:
    "ok"      2xx, or a redirect to a page that is not the login page (a POST may also answer 400/422:
              the form was refused, but the gate let the user through)
    "noop"    like "ok", but nothing may change (e.g. marking someone else's message read)
    "public"  200 without login
    "login"   redirect to /accounts/login/
    "404"     page or object does not exist for this user (conventions: foreign = missing)
    "denied"  404 or 403
    "403"/"401"/"405"  as the status says

A role missing from an entry gets its `default`. A `Known` value declares what the regulation and the
scope rules demand while recording that the current code answers otherwise (an expected failure).
"""

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from peixun.accounts.models import Organisation
from peixun.accounts.roles import Role
from peixun.accounts.services import organisation_create, person_register, user_create
from peixun.catalog.services import catalog_create
from peixun.certificates.completion import completion_approve_and_certify
from peixun.certificates.models import Certificate
from peixun.checkin.tokens import make_token
from peixun.checks.catalog import Hit
from peixun.checks.models import Finding
from peixun.checks.services import findings_store
from peixun.core.models import Area, Job
from peixun.core.uscc import uscc_complete as uscc
from peixun.demand.services import announcement_create
from peixun.faces.models import FacePhoto
from peixun.faces.services import face_photo_add
from peixun.inbox.models import Notification
from peixun.institutions.models import AssessmentPhoto, InstitutionListing
from peixun.institutions.services import (
    assessment_record,
    directory_change,
    evaluation_body_register,
    institution_register,
)
from peixun.intake.models import Platform
from peixun.intake.services import device_register, platform_file, platform_transition
from peixun.portal.models import Notice
from peixun.portal.services import notice_publish
from peixun.reports.jobs import report_directory
from peixun.subsidies.models import SubsidyApplication, SubsidyLine
from peixun.subsidies.services import objection_lodge, subsidy_apply, subsidy_approve
from peixun.supervision import services as sv
from peixun.supervision.models import (
    CheckItem,
    Department,
    Draw,
    DrawAssignment,
    Inspection,
    InspectionItem,
    InspectionPhoto,
    Inspector,
    Rectification,
    SanctionKind,
    ViolationType,
)
from peixun.training import services
from peixun.training.models import ChangeRequest, ClassStatus, Enrollment, TrainingClass
from tests.conftest import PASSWORD, World, new_id_number
from tests.factories import Lifecycle

# --- roles -------------------------------------------------------------------------------------------

ANON = "anonymous"
REGION = "region_admin"
CITY = "city_admin"  # 呼和浩特市, the object's city
REVIEWER = "county_reviewer"  # 新城区, the object's county
OTHER_REVIEWER = "other_county_reviewer"  # 回民区
OTHER_CITY = "other_city_admin"  # 包头市
FINANCE = "finance"  # 新城区
INSPECTOR = "inspector"  # 呼和浩特市
OPERATOR = "operator"  # 鸿翔, the object's institution
OTHER_OPERATOR = "other_operator"  # 青城 (回民区), another institution
EVALUATOR = "evaluator"  # 呼和浩特市职业技能鉴定中心
PLATFORM = "platform_operator"  # 北疆网络, a filed platform (filed with 呼和浩特市)
TRAINEE = "trainee"  # 李明, on the roster
OTHER_TRAINEE = "other_trainee"  # 王芳, never on the roster

ROLES = (
    ANON,
    REGION,
    CITY,
    REVIEWER,
    OTHER_REVIEWER,
    OTHER_CITY,
    FINANCE,
    INSPECTOR,
    OPERATOR,
    OTHER_OPERATOR,
    EVALUATOR,
    PLATFORM,
    TRAINEE,
    OTHER_TRAINEE,
)
LOGGED_IN = ROLES[1:]
OFFICIALS = (REGION, CITY, REVIEWER, OTHER_REVIEWER, OTHER_CITY, FINANCE, INSPECTOR)
# the officials whose area covers 新城区
OFFICIALS_OVER = (REGION, CITY, REVIEWER, FINANCE, INSPECTOR)

# Those for whom nothing of 鸿翔's class is theirs to see (李明 sees his own records).
STRANGERS = (OTHER_REVIEWER, OTHER_CITY, OTHER_OPERATOR, EVALUATOR, PLATFORM, OTHER_TRAINEE)

OUTCOMES = frozenset({"ok", "noop", "public", "login", "denied", "404", "403", "401", "405"})


@dataclass(frozen=True)
class Known:
    """The correct answer, and the different one the code gives today (an expected failure)."""

    expected: str
    actual: str
    reason: str


@dataclass(frozen=True)
class Entry:
    """How to visit one URL and what each role gets."""

    kwargs: Callable = lambda w: {}
    method: str = "GET"  # "POST": a POST-only action (GET must be 405/404, POST per role)
    expect: dict = field(default_factory=dict)
    default: str = "404"
    query: str = ""
    data: Callable = lambda w: {}
    # what must not change when the gate refuses (besides the audit chain and the access log)
    state: Callable | None = None
    json: bool = False  # POST a JSON body (the API)
    # What a page must not show to whom, when they get it: {marker text: roles}, the markers naming
    # objects of 新城区 and 鸿翔 (codes, names) ...
    secrets: Callable | None = None
    # ... and who does see every marker (so that a marker that never appears cannot pass unnoticed)
    shown_to: tuple = (REGION,)

    def outcome(self, role: str):
        return self.expect.get(role, self.default)


def roles(outcome: str, *names) -> dict:
    return {name: outcome for name in names}


def everyone(outcome: str) -> dict:
    return roles(outcome, *ROLES)


def page(*allowed) -> dict:
    """Anonymous to the login page; `allowed` get the page; everyone else (by default) 404."""
    return {ANON: "login", **roles("ok", *allowed)}


PUBLIC = everyone("public")
ANY_LOGIN = {ANON: "login", **roles("ok", *LOGGED_IN)}

# --- the world -----------------------------------------------------------------------------------------

APPLIED = dt.date(2026, 9, 1)
START = dt.date(2026, 9, 14)
TRAINED = dt.date(2026, 9, 16)
COMPLETED = dt.date(2026, 9, 17)
SUBSIDY_APPLIED = dt.date(2026, 9, 21)
SUBSIDY_APPROVED = dt.date(2026, 9, 22)  # 公示 2026-09-23 … 09-29
OBJECTION = dt.date(2026, 9, 24)
TODAY = dt.date(2026, 9, 25)
INSPECTION_DUE = dt.date(2026, 10, 30)


PLATFORM_FIELDS = {
    "name": "北疆职业技能在线",
    "operator_name": "内蒙古北疆网络科技有限公司",
    "address": "呼和浩特市赛罕区",
    "website": "https://example.invalid",
    "contact_name": "乌兰",
    "contact_phone": "0471-7654321",
    "security_level": "3",
    "security_cert_no": "15010099999-00002",
    "stability_info": "双机热备",
}


def png_bytes() -> bytes:

    out = io.BytesIO()
    Image.new("RGB", (32, 32), (180, 120, 90)).save(out, "PNG")
    return out.getvalue()


class MatrixWorld:
    """Everything the URLs of the matrix point at, built through the services (tests/factories.py)."""

    def __init__(self, clock):
        def user(username, role, name, org=None, person=None):
            return user_create(
                username=username,
                password=PASSWORD,
                role=role,
                display_name=name,
                organisation=org,
                person=person,
                actor=None,
            )

        clock.travel(APPLIED - dt.timedelta(days=1))
        world = self.world = World()
        life = self.life = Lifecycle(world)
        self.institution = life.institution

        # --- the roles -------------------------------------------------------------------------------
        other = institution_register(
            code=uscc("52150103MJY000077"),
            name="呼和浩特市青城家政职业培训学校",
            type="PRIVATE_SCHOOL",
            area=Area.objects.get(code="150103"),
            actor=world.hohhot_admin,
        )
        body = evaluation_body_register(
            code=uscc("12150100460012341"),
            name="呼和浩特市职业技能鉴定中心",
            area=Area.objects.get(code="150105"),
            actor=world.region_admin,
            scopes=[("4-10-01-05", "5")],
        )
        platform_org = organisation_create(
            name="内蒙古北疆网络科技有限公司",
            kind=Organisation.Kind.ONLINE_PLATFORM,
            area=Area.objects.get(code="150100"),
            actor=None,
        )
        wang_fang, _ = person_register(
            id_number=new_id_number("150102", dt.date(1992, 4, 4), False, seed=3),
            name="王芳",
            actor=None,
        )
        self.users = {
            REGION: world.region_admin,
            CITY: world.hohhot_admin,
            REVIEWER: world.xincheng_reviewer,
            OTHER_REVIEWER: world.huimin_reviewer,
            OTHER_CITY: world.baotou_admin,
            FINANCE: user("qian_finance", Role.FINANCE, "钱晓梅", world.xincheng),
            INSPECTOR: world.inspector,
            OPERATOR: life.operator,
            OTHER_OPERATOR: user("qc_ops", Role.INSTITUTION_OPERATOR, "何春雨", other.organisation),
            EVALUATOR: user("jianding", Role.EVALUATOR_OPERATOR, "白雪", body.organisation),
            PLATFORM: user("bj_platform", Role.PLATFORM_OPERATOR, "乌兰", platform_org),
            TRAINEE: world.trainee,
            OTHER_TRAINEE: user("wangfang", Role.TRAINEE, "王芳", person=wang_fang),
        }
        operator, reviewer = life.operator, world.xincheng_reviewer

        # --- the class through its life ------------------------------------------------------------------
        klass = self.klass = life.draft(start=START)
        services.opening_submit(training_class=klass, actor=operator)
        clock.travel(APPLIED + dt.timedelta(days=1))
        services.opening_approve(training_class=klass, actor=reviewer)
        clock.travel(TRAINED)
        life.attend(klass, world.li_ming)
        chen = klass.enrollments.get(person=world.chen_jing)
        self.change = services.change_request_create(
            training_class=klass,
            actor=operator,
            kind=ChangeRequest.Kind.REMOVE_TRAINEE,
            payload={"enrollment": chen.pk},
            reason="学员因病退出",
        )
        services.change_request_decide(request=self.change, actor=reviewer, approve=True)
        self.enrollment = klass.enrollments.get(person=world.li_ming)
        services.exam_record(
            enrollment=self.enrollment, actor=operator, exam_date=TRAINED, score=Decimal("86"), passed=True
        )
        services.completion_submit(training_class=klass, actor=operator)
        clock.travel(COMPLETED)
        completion_approve_and_certify(
            training_class=klass,
            actor=reviewer,
            material_review="花名册、考勤、成绩齐全",
            crosscheck_review="与社保数据比对无异常",
        )
        self.certificate = Certificate.objects.get(person=world.li_ming, training_class=klass)
        self.module = klass.modules.first()
        self.lesson = klass.lessons.filter(mode="OFFLINE").first()
        self.document = klass.documents.first()
        self.record = klass.attendance.order_by("pk").first()

        # --- subsidy: applied, approved, in 公示 with an objection ------------------------------------------
        clock.travel(SUBSIDY_APPLIED)
        self.application = subsidy_apply(
            training_class=klass,
            actor=operator,
            payee_name=self.institution.name,
            payee_account="0602 0000 1234 5678",
            payee_bank="中国工商银行呼和浩特新城支行",
        ).application
        clock.travel(SUBSIDY_APPROVED)
        subsidy_approve(application=self.application, actor=reviewer, reason="符合补贴条件")
        self.line = self.application.lines.get()
        clock.travel(OBJECTION)
        self.objection = objection_lodge(
            line=self.line, name="刘女士", phone="13904710000", content="该学员培训期间在外地务工，请核实。"
        )

        # --- the rest, on the day of the visit ----------------------------------------------------------------
        clock.travel(TODAY, 9)
        findings_store(
            hits=[
                Hit("PUBLIC_PAYROLL", klass.code, world.li_ming.id_hmac, "财政供养信息：新城区东街街道办事处")
            ],
            rules_version=1,
            class_ids=[klass.pk],
        )
        self.finding = Finding.objects.get(training_class=klass)
        self.photo = face_photo_add(
            person=world.li_ming, image_bytes=png_bytes(), kind=FacePhoto.Kind.ENROLMENT, actor=operator
        )
        assessment_record(
            institution=self.institution,
            actor=world.hohhot_admin,
            assessed_on=TODAY,
            assessors="张海燕、赵晓东",
            premises_ok=True,
            equipment_ok=True,
            teachers_ok=True,
            photos=[SimpleUploadedFile("site.png", png_bytes(), content_type="image/png")],
        )
        self.assessment_photo = AssessmentPhoto.objects.get(assessment__institution=self.institution)
        for transition in ("suspend", "resume"):
            directory_change(
                institution=self.institution,
                transition=transition,
                actor=world.hohhot_admin,
                effective_date=TODAY,
                reason="整改" if transition == "suspend" else "整改完成",
                decision_no=f"呼人社字〔2026〕{len(transition)}号",
                decision_file=SimpleUploadedFile(f"{transition}.pdf", b"%PDF-1.4 decision"),
            )
        self.listing = (
            InstitutionListing.objects.filter(institution=self.institution).exclude(decision_file="").first()
        )
        self.teacher = life.teacher
        self.device, _secret = device_register(
            institution=self.institution, actor=operator, name="一楼人脸考勤机", site_address="新华大街1号"
        )
        self.platform = platform_file(
            actor=self.users[PLATFORM],
            filed_with=Area.objects.get(code="150100"),
            fields={**PLATFORM_FIELDS, "uscc": uscc("91150100MA0000002")},
            capabilities=dict.fromkeys(Platform.CAPABILITIES, True),
            courses_text="4-10-01-05|职业道德|4|国家职业技能标准",
        )
        # a second filing, returned for correction: the only state in which its operator edits it
        self.returned_platform = platform_file(
            actor=self.users[PLATFORM],
            filed_with=Area.objects.get(code="150100"),
            fields={**PLATFORM_FIELDS, "name": "北疆技能课堂", "uscc": uscc("91150100MA0000003")},
            capabilities=dict.fromkeys(Platform.CAPABILITIES, True),
            courses_text="4-10-01-05|职业道德|4|国家职业技能标准",
        )
        platform_transition(
            platform=self.returned_platform,
            transition="return",
            actor=world.hohhot_admin,
            reason="请补充等保证明",
        )
        self.announcement = announcement_create(
            institution=self.institution,
            actor=operator,
            title="养老护理员培训班招生",
            occupation_code="4-10-01-05",
            level="5",
            start_date=dt.date(2026, 10, 12),
            end_date=dt.date(2026, 10, 13),
            place="新华大街1号",
            capacity=30,
            contact_phone="0471-1234567",
        )
        self.notice = notice_publish(
            category=Notice.Category.POLICY,
            title="呼和浩特市2026年职业技能培训补贴申领指南",
            body="申领条件、材料与流程。",
            area=Area.objects.get(code="150100"),
            actor=world.hohhot_admin,
            published_on=TODAY,
        )
        self.catalog = self._city_catalog(world)
        self.job = Job.objects.create(
            kind="crosscheck", title="全省实名核查", status=Job.Status.FAILED, created_by=world.region_admin
        )
        self.message = Notification.objects.create(
            user=operator, title="开班申请已批准", url=f"/classes/{klass.pk}/"
        )
        self._supervision(world, life)
        self._reports(world)

    def _supervision(self, world, life):
        """监督检查 of 鸿翔 by 呼和浩特市: a 双随机 draw whose inspection (苏日娜 and 韩磊) found things to
        put right, was published and answered with a rectification report; an unannounced inspection
        still planned; a case of 虚假上课记录 with a 责令整改, a recovery of a paid subsidy and a clue
        sent to the police; a declared conflict."""
        admin, inspector = world.hohhot_admin, world.inspector
        han = user_create(
            username="han_xincheng",
            password=PASSWORD,
            role=Role.INSPECTOR,
            display_name="韩磊",
            organisation=world.xincheng,
            actor=None,
        )
        sv.inspector_roster_sync(area=Area.objects.get(code="150100"))
        self.inspector = Inspector.objects.get(user=inspector)
        both = [self.inspector, Inspector.objects.get(user=han)]
        self.draw = sv.draw_create(
            actor=admin,
            title="2026年第三季度培训机构双随机抽查",
            target_kind=Draw.TargetKind.INSTITUTION,
            inspection_due=INSPECTION_DUE,
        )
        sv.draw_execute(draw=self.draw, actor=admin)
        self.assignment = DrawAssignment.objects.filter(target__draw=self.draw).first()
        drawn = self.inspection = Inspection.objects.get(draw_target__draw=self.draw)
        sv.inspection_record(
            inspection=drawn,
            actor=inspector,
            inspected_on=TODAY,
            items={c: (InspectionItem.Result.OK, "") for c in CheckItem.values},
            outcome=Inspection.Outcome.RECTIFY,
            summary="教学秩序正常，实训安全警示标识缺失",
            follow_up="补齐实训安全警示标识",
            follow_up_due=INSPECTION_DUE,
        )
        sv.inspection_photo_add(
            inspection=drawn, actor=inspector, upload=SimpleUploadedFile("site.png", png_bytes(), "image/png")
        )
        self.inspection_photo = InspectionPhoto.objects.get(inspection=drawn)
        drawn.refresh_from_db()
        sv.rectification_submit(
            actor=life.operator,
            inspection=drawn,
            text="已补齐实训安全警示标识",
            upload=SimpleUploadedFile("rectified.pdf", b"%PDF-1.4 rectified"),
        )
        self.rectification = Rectification.objects.get(inspection=drawn)
        sv.inspection_publish(inspection=drawn, actor=admin)
        # unannounced means unannounced: neither 鸿翔 nor 新城区's reviewer may learn of it
        self.planned = sv.inspection_plan(
            actor=admin,
            kind=Inspection.Kind.UNANNOUNCED,
            institution=self.institution,
            inspectors=both,
            due_date=INSPECTION_DUE,
        )
        self.violation = sv.violation_record(
            actor=admin,
            institution=self.institution,
            type=ViolationType.FALSE_ATTENDANCE,
            description="2026年9月班次多名学员未到课，考勤由他人代签",
            found_on=TODAY,
        )
        self.sanction = sv.sanction_decide(
            violation=self.violation,
            actor=admin,
            kind=SanctionKind.RECTIFY,
            decided_on=TODAY,
            document_no="呼人社监字〔2026〕1号",
            content="责令限期整改",
            effective_to=INSPECTION_DUE,
            document=SimpleUploadedFile("decision.pdf", b"%PDF-1.4 decision"),
        )
        # A paid subsidy line of an earlier class of 鸿翔, to order back (the payment flow is tested
        # elsewhere; only its outcome is needed here, as in tests/test_supervision.py).
        earlier = TrainingClass.objects.create(
            code="HX2026-0801",
            institution=self.institution,
            area=self.institution.area,
            occupation_code="4-10-01-05",
            occupation_name="养老护理员",
            level="5",
            training_type="EMPLOYMENT",
            start_date=dt.date(2026, 8, 3),
            end_date=dt.date(2026, 8, 7),
            total_hours=Decimal("40"),
            status=ClassStatus.COMPLETED,
        )
        paid = SubsidyApplication.objects.create(
            code="BTHX2026-0801",
            applicant_kind=SubsidyApplication.Applicant.INSTITUTION,
            training_class=earlier,
            institution=self.institution,
            status=SubsidyApplication.Status.CLOSED,
            submitted_at=dt.datetime(2026, 8, 10, tzinfo=dt.UTC),
            submitted_by=life.operator,
            submitted_on=dt.date(2026, 8, 10),
            limit_workdays=8,
        )
        paid_line = SubsidyLine.objects.create(
            application=paid,
            enrollment=Enrollment.objects.create(
                training_class=earlier, person=world.chen_jing, category="RURAL_MIGRANT"
            ),
            person=world.chen_jing,
            amount=Decimal("1500.00"),
            status=SubsidyLine.Status.PAID,
        )
        self.recovery = sv.recovery_order(
            violation=self.violation,
            actor=admin,
            lines=[paid_line],
            ordered_on=TODAY,
            due_date=INSPECTION_DUE,
            document_no="呼人社追字〔2026〕1号",
        )
        self.clue = sv.clue_transfer_send(
            actor=admin,
            department=Department.PUBLIC_SECURITY,
            recipient="呼和浩特市公安局新城区分局",
            summary="涉嫌以虚假考勤骗取培训补贴",
            sent_on=TODAY,
            institution=self.institution,
            violation=self.violation,
        )
        self.conflict = sv.conflict_declare(
            actor=admin, inspector=both[1], institution=self.institution, reason="近亲属在该机构任职"
        )

    def _reports(self, world):
        """A standard report the region department generated (its file in the report directory)."""
        (report_directory() / "matrix-ledger.xlsx").write_bytes(b"PK not a real workbook")
        self.report_job = Job.objects.create(
            kind="reports.ledger",
            title="补贴台账",
            status=Job.Status.SUCCEEDED,
            created_by=world.region_admin,
            result={"file": "matrix-ledger.xlsx", "filename": "补贴台账.xlsx", "title": "补贴台账"},
        )

    def token(self) -> str:
        """A fresh QR token of the lesson, as the display screen shows it now."""
        return make_token(self.lesson.pk)

    @staticmethod
    def _city_catalog(world):
        return catalog_create(
            area=Area.objects.get(code="150100"),
            title="呼和浩特市2026年职业培训补贴目录",
            valid_from=dt.date(2026, 1, 1),
            actor=world.hohhot_admin,
        )


# --- the matrix --------------------------------------------------------------------------------------------


def klass(w) -> dict:
    return {"pk": w.klass.pk}


def code(w) -> dict:
    return {"code": w.klass.code}


# Who may see the class of 鸿翔 in 新城区 and what hangs off it: the offices over 新城区 and 鸿翔 itself.
CLASS_VIEWERS = (*OFFICIALS_OVER, OPERATOR)
# A POST only the class's own institution may make, and one only a reviewer over the class may make
# (the city bureau holds the review permission too: rules.md, Escalation; 第九条 各级就业服务机构).
INSTITUTION_POST = {ANON: "login", OPERATOR: "ok"}
REVIEWER_POST = {ANON: "login", REVIEWER: "ok", CITY: "ok"}
# The API answers an unauthenticated call 401 (django_auth), never a redirect to the login page.
API_CLASS_VIEWERS = {ANON: "401", **roles("ok", *CLASS_VIEWERS)}


def api_move(allowed: tuple) -> dict:
    denied = [r for r in CLASS_VIEWERS if r not in allowed]
    return {
        ANON: "401",
        **roles("ok", *allowed),
        **roles("denied", *denied),
    }


# 监督检查 and statistics: the bureaus and the institutions (each within its own scope)
SUPERVISION = (*OFFICIALS, OPERATOR, OTHER_OPERATOR)


def inspection(w) -> dict:
    return {"pk": w.inspection.pk}


def violation(w) -> dict:
    return {"pk": w.violation.pk}


def draw_state(w):
    return list(type(w.draw).objects.filter(pk=w.draw.pk).values("status", "seed"))


def inspection_state(w):
    return list(type(w.inspection).objects.filter(pk=w.inspection.pk).values("status", "published_at"))


def sanction_state(w):
    return list(type(w.sanction).objects.filter(pk=w.sanction.pk).values("status"))


MATRIX: dict[str, Entry] = {
    # --- the shell ------------------------------------------------------------------------------------------
    "home": Entry(expect=ANY_LOGIN),
    "login": Entry(expect={**roles("ok", *LOGGED_IN), ANON: "public"}),
    # logging out answers the login page, for everyone
    "logout": Entry(method="POST", expect=everyone("login")),
    "healthz": Entry(expect=PUBLIC),
    # the second factor (TOTP) pages: with PEIXUN_REQUIRE_2FA off (tests) they send everyone home
    "otp_setup": Entry(expect=ANY_LOGIN),
    "otp_verify": Entry(expect=ANY_LOGIN),
    "area_tree": Entry(expect=page(*OFFICIALS)),
    "person_list": Entry(
        secrets=lambda w: {w.world.li_ming.id_masked: STRANGERS},
        expect=page(*[r for r in LOGGED_IN if r != PLATFORM]),
    ),
    "person_detail": Entry(
        kwargs=lambda w: {"public_id": w.world.li_ming.public_id}, expect=page(*CLASS_VIEWERS, TRAINEE)
    ),
    "person_reveal_id": Entry(
        kwargs=lambda w: {"public_id": w.world.li_ming.public_id},
        method="POST",
        expect=page(REGION, CITY, REVIEWER, FINANCE, OPERATOR, TRAINEE),
    ),
    "audit_list": Entry(
        expect=page(REGION, CITY, REVIEWER, OTHER_REVIEWER, OTHER_CITY, OPERATOR, OTHER_OPERATOR)
    ),
    "audit_verify": Entry(method="POST", expect=page(REGION)),
    "access_log": Entry(expect=page(REGION)),
    "rule_settings": Entry(expect=page(*OFFICIALS)),
    "calendar": Entry(expect=page(*OFFICIALS)),
    "user_list": Entry(
        secrets=lambda w: {w.users[OPERATOR].username: (OTHER_CITY,)},
        expect=page(REGION, CITY, OTHER_CITY),
    ),
    "user_unlock": Entry(
        kwargs=lambda w: {"user_id": w.users[OPERATOR].pk},
        method="POST",
        expect=page(REGION, CITY),
        state=lambda w: list(type(w.users[OPERATOR]).objects.filter(pk=w.users[OPERATOR].pk).values()),
    ),
    "workload": Entry(expect=page(REGION, CITY, REVIEWER, OTHER_REVIEWER, OTHER_CITY)),
    "class_archive": Entry(kwargs=klass, expect=page(*CLASS_VIEWERS)),
    "class_archive_zip": Entry(kwargs=klass, expect=page(*CLASS_VIEWERS)),
    # --- the public portal (第五条) ------------------------------------------------------------------------
    "portal:home": Entry(expect=PUBLIC),
    "portal:institutions": Entry(expect=PUBLIC),
    "portal:institution": Entry(kwargs=lambda w: {"pk": w.institution.pk}, expect=PUBLIC),
    "portal:announcements": Entry(expect=PUBLIC),
    "portal:evaluation_bodies": Entry(expect=PUBLIC),
    "portal:survey": Entry(expect=PUBLIC),
    "portal:survey_thanks": Entry(expect=PUBLIC),
    "portal:notices": Entry(expect=PUBLIC),
    "portal:notice": Entry(kwargs=lambda w: {"pk": w.notice.pk}, expect=PUBLIC),
    "portal:occupation_suggest": Entry(expect=PUBLIC, query="q=养老"),
    "portal:notice_manage": Entry(
        secrets=lambda w: {w.notice.title: (OTHER_CITY,)}, expect=page(REGION, CITY, OTHER_CITY)
    ),
    "portal:notice_create": Entry(expect=page(REGION, CITY, OTHER_CITY)),
    "portal:notice_withdraw": Entry(
        kwargs=lambda w: {"pk": w.notice.pk},
        method="POST",
        expect=page(REGION, CITY),
        state=lambda w: type(w.notice).objects.filter(pk=w.notice.pk, published=True).count(),
    ),
    # --- institutions, teachers, evaluation bodies (第六条) --------------------------------------------------
    "institutions:list": Entry(
        secrets=lambda w: {w.institution.code: STRANGERS},
        expect=page(*OFFICIALS, OPERATOR, OTHER_OPERATOR),
    ),
    "institutions:export": Entry(expect=page(*OFFICIALS, OPERATOR, OTHER_OPERATOR)),
    "institutions:create": Entry(expect=page(REGION, CITY, OTHER_CITY)),
    "institutions:import": Entry(expect=page(REGION, CITY, OTHER_CITY)),
    "institutions:template": Entry(
        kwargs=lambda w: {"kind": "institutions"}, expect=page(*OFFICIALS, OPERATOR, OTHER_OPERATOR)
    ),
    "institutions:detail": Entry(kwargs=lambda w: {"pk": w.institution.pk}, expect=page(*CLASS_VIEWERS)),
    "institutions:edit": Entry(
        kwargs=lambda w: {"pk": w.institution.pk}, expect=page(REGION, CITY, OPERATOR)
    ),
    "institutions:assess": Entry(
        kwargs=lambda w: {"pk": w.institution.pk}, expect=page(REGION, CITY, REVIEWER, INSPECTOR)
    ),
    "institutions:directory_change": Entry(
        kwargs=lambda w: {"pk": w.institution.pk, "transition": "suspend"}, expect=page(REGION, CITY)
    ),
    "institutions:assessment_photo": Entry(
        kwargs=lambda w: {"pk": w.assessment_photo.pk}, expect=page(*CLASS_VIEWERS)
    ),
    "institutions:decision_file": Entry(kwargs=lambda w: {"pk": w.listing.pk}, expect=page(*CLASS_VIEWERS)),
    "institutions:teachers": Entry(
        secrets=lambda w: {w.teacher.person.name: STRANGERS},
        expect=page(*OFFICIALS, OPERATOR, OTHER_OPERATOR),
    ),
    "institutions:teacher_create": Entry(expect=page(REGION, CITY, OTHER_CITY, OPERATOR, OTHER_OPERATOR)),
    "institutions:teacher_export": Entry(expect=page(*OFFICIALS, OPERATOR, OTHER_OPERATOR)),
    "institutions:teacher_pool": Entry(
        kwargs=lambda w: {"pk": w.teacher.pk},
        method="POST",
        data=lambda w: {"area": ""},
        expect=page(REGION, CITY),
        state=lambda w: (
            type(w.teacher).objects.filter(pk=w.teacher.pk).values_list("shared_pool_area", flat=True)[0]
        ),
    ),
    "institutions:evaluation_bodies": Entry(expect=page(*OFFICIALS, OPERATOR, OTHER_OPERATOR)),
    "institutions:evaluation_body_create": Entry(expect=page(REGION)),
    "institutions:evaluation_body_import": Entry(expect=page(REGION)),
    "institutions:evaluation_body_template": Entry(expect=page(*OFFICIALS, OPERATOR, OTHER_OPERATOR)),
    "institutions:evaluation_body_export": Entry(expect=page(*OFFICIALS, OPERATOR, OTHER_OPERATOR)),
    # --- subsidy catalogs (第七条): public documents, kept by the region and the cities ----------------------
    "catalog:list": Entry(expect=page(*OFFICIALS, OPERATOR, OTHER_OPERATOR, EVALUATOR, PLATFORM)),
    "catalog:create": Entry(expect=page(REGION, CITY, OTHER_CITY)),
    "catalog:template": Entry(expect=page(*OFFICIALS, OPERATOR, OTHER_OPERATOR, EVALUATOR, PLATFORM)),
    "catalog:occupations": Entry(expect=page(*OFFICIALS, OPERATOR, OTHER_OPERATOR, EVALUATOR, PLATFORM)),
    "catalog:occupation_suggest": Entry(
        expect=page(*OFFICIALS, OPERATOR, OTHER_OPERATOR, EVALUATOR, PLATFORM), query="q=养老"
    ),
    # filtered to one occupation: the whole classification makes a 1,600-row workbook per visit
    "catalog:occupation_export": Entry(
        expect=page(*OFFICIALS, OPERATOR, OTHER_OPERATOR, EVALUATOR, PLATFORM), query="q=4-10-01-05"
    ),
    "catalog:occupation_add": Entry(expect=page(REGION)),
    "catalog:occupation_import": Entry(method="POST", expect=page(REGION)),
    "catalog:occupation_template": Entry(
        expect=page(*OFFICIALS, OPERATOR, OTHER_OPERATOR, EVALUATOR, PLATFORM)
    ),
    "catalog:detail": Entry(
        kwargs=lambda w: {"pk": w.catalog.pk},
        expect=page(*OFFICIALS, OPERATOR, OTHER_OPERATOR, EVALUATOR, PLATFORM),
    ),
    "catalog:import": Entry(kwargs=lambda w: {"pk": w.catalog.pk}, method="POST", expect=page(REGION, CITY)),
    "catalog:export": Entry(
        kwargs=lambda w: {"pk": w.catalog.pk},
        expect=page(*OFFICIALS, OPERATOR, OTHER_OPERATOR, EVALUATOR, PLATFORM),
    ),
    # --- demand, announcements (第五条) ---------------------------------------------------------------------
    "demand:pool": Entry(expect=page(*OFFICIALS)),
    "demand:pool_export": Entry(expect=page(*OFFICIALS)),
    "demand:reports": Entry(expect=page(*OFFICIALS)),
    "demand:match": Entry(
        kwargs=lambda w: {"city_code": "150100", "occupation_code": "4-10-01-05"},
        expect=page(REGION, CITY, REVIEWER, OTHER_REVIEWER, FINANCE, INSPECTOR),
    ),
    "demand:entry": Entry(expect=page(REGION, CITY, REVIEWER, OTHER_REVIEWER, OTHER_CITY)),
    "demand:announcements": Entry(
        secrets=lambda w: {w.announcement.title: STRANGERS},
        expect=page(*OFFICIALS, OPERATOR, OTHER_OPERATOR),
    ),
    "demand:announcement_create": Entry(expect=page(OPERATOR, OTHER_OPERATOR)),
    "demand:announcement_transition": Entry(
        kwargs=lambda w: {"pk": w.announcement.pk, "action": "publish"},
        method="POST",
        expect=page(OPERATOR),
        state=lambda w: type(w.announcement).objects.get(pk=w.announcement.pk).status,
    ),
    # --- findings (问题线索) ----------------------------------------------------------------------------------
    "checks:findings": Entry(
        secrets=lambda w: {w.klass.code: STRANGERS},
        expect=page(*[r for r in LOGGED_IN if r != PLATFORM]),
    ),
    "checks:findings_export": Entry(expect=page(*[r for r in LOGGED_IN if r != PLATFORM])),
    "checks:risk": Entry(
        secrets=lambda w: {w.institution.name: STRANGERS},
        expect=page(*[r for r in LOGGED_IN if r != PLATFORM]),
    ),
    "checks:finding": Entry(kwargs=lambda w: {"pk": w.finding.pk}, expect=page(*CLASS_VIEWERS)),
    "checks:class_findings": Entry(kwargs=klass, expect=page(*CLASS_VIEWERS)),
    # --- data exchange: the region department only ------------------------------------------------------------
    "exchange:home": Entry(expect=page(REGION)),
    "exchange:job": Entry(kwargs=lambda w: {"public_id": w.job.public_id}, expect=page(REGION)),
    "exchange:job_progress": Entry(kwargs=lambda w: {"public_id": w.job.public_id}, expect=page(REGION)),
    "exchange:job_retry": Entry(
        kwargs=lambda w: {"public_id": w.job.public_id},
        method="POST",
        expect=page(REGION),
        state=lambda w: type(w.job).objects.count(),
    ),
    # --- the class through its life (第八-十一条, 第二十二条) -----------------------------------------------------
    "training:classes": Entry(
        secrets=lambda w: {w.klass.code: STRANGERS},
        expect=page(*[r for r in LOGGED_IN if r != PLATFORM]),
    ),
    "training:create": Entry(expect=page(OPERATOR, OTHER_OPERATOR)),
    "training:detail": Entry(kwargs=klass, expect=page(*CLASS_VIEWERS)),
    "training:submit": Entry(kwargs=klass, method="POST", expect=INSTITUTION_POST),
    "training:withdraw": Entry(kwargs=klass, method="POST", expect=INSTITUTION_POST),
    "training:completion": Entry(kwargs=klass, method="POST", expect=INSTITUTION_POST),
    "training:return": Entry(kwargs=klass, method="POST", expect=REVIEWER_POST),
    "training:approve": Entry(kwargs=klass, method="POST", expect=REVIEWER_POST),
    "training:reject": Entry(kwargs=klass, method="POST", expect=REVIEWER_POST),
    "training:completion_approve": Entry(kwargs=klass, method="POST", expect=REVIEWER_POST),
    "training:completion_reject": Entry(kwargs=klass, method="POST", expect=REVIEWER_POST),
    "training:update": Entry(kwargs=klass, method="POST", expect=INSTITUTION_POST),
    "training:roster_add": Entry(kwargs=klass, method="POST", expect=INSTITUTION_POST),
    "training:roster_upload": Entry(kwargs=klass, method="POST", expect=INSTITUTION_POST),
    "training:roster_remove": Entry(
        kwargs=lambda w: {"pk": w.klass.pk, "enrollment": w.enrollment.pk},
        method="POST",
        expect=INSTITUTION_POST,
        state=lambda w: (
            type(w.enrollment).objects.filter(pk=w.enrollment.pk, removed_at__isnull=True).count()
        ),
    ),
    "training:roster_template": Entry(kwargs=klass, expect=page(OPERATOR)),
    "training:module_add": Entry(kwargs=klass, method="POST", expect=INSTITUTION_POST),
    "training:module_delete": Entry(
        kwargs=lambda w: {"pk": w.klass.pk, "module": w.module.pk},
        method="POST",
        expect=INSTITUTION_POST,
        state=lambda w: w.klass.modules.count(),
    ),
    "training:lesson_add": Entry(kwargs=klass, method="POST", expect=INSTITUTION_POST),
    "training:lesson_delete": Entry(
        kwargs=lambda w: {"pk": w.klass.pk, "lesson": w.lesson.pk},
        method="POST",
        expect=INSTITUTION_POST,
        state=lambda w: w.klass.lessons.count(),
    ),
    "training:teacher_engage": Entry(kwargs=klass, method="POST", expect=INSTITUTION_POST),
    "training:document_upload": Entry(
        kwargs=klass, method="POST", expect=INSTITUTION_POST, state=lambda w: w.klass.documents.count()
    ),
    "training:document_download": Entry(
        kwargs=lambda w: {"pk": w.klass.pk, "document": w.document.pk}, expect=page(*CLASS_VIEWERS)
    ),
    "training:exams": Entry(
        kwargs=klass,
        method="POST",
        data=lambda w: {"enrollment": w.enrollment.pk},
        expect=INSTITUTION_POST,
        state=lambda w: list(w.klass.exams.values()),
    ),
    "training:change_create": Entry(
        kwargs=klass, method="POST", expect=INSTITUTION_POST, state=lambda w: w.klass.change_requests.count()
    ),
    "training:change_decide": Entry(
        kwargs=lambda w: {"pk": w.klass.pk, "cr": w.change.pk},
        method="POST",
        data=lambda w: {"decision": "reject", "reason": "不同意"},
        expect=REVIEWER_POST,
        state=lambda w: type(w.change).objects.get(pk=w.change.pk).state,
    ),
    # --- faces ------------------------------------------------------------------------------------------------
    "faces:classes": Entry(
        secrets=lambda w: {w.klass.code: STRANGERS},
        expect=page(*OFFICIALS, OPERATOR, OTHER_OPERATOR),
    ),
    "faces:enrolment": Entry(kwargs=klass, expect=page(*CLASS_VIEWERS)),
    "faces:photo": Entry(kwargs=lambda w: {"pk": w.photo.pk}, expect=page(*CLASS_VIEWERS)),
    "faces:thumbnail": Entry(kwargs=lambda w: {"pk": w.photo.pk}, expect=page(*CLASS_VIEWERS)),
    # --- QR self check-in ------------------------------------------------------------------------------------
    "checkin:lessons": Entry(expect=page(OPERATOR, OTHER_OPERATOR)),
    "checkin:display": Entry(kwargs=lambda w: {"pk": w.lesson.pk}, expect=page(OPERATOR)),
    "checkin:qr": Entry(kwargs=lambda w: {"pk": w.lesson.pk}, expect=page(OPERATOR)),
    # anyone logged in may open a scanned link: it answers with the check-in form or why not
    "checkin:scan": Entry(kwargs=lambda w: {"token": w.token()}, expect=ANY_LOGIN),
    # without a valid token every check-in is refused (403 with the reason), and nothing is written
    "checkin:submit": Entry(
        method="POST",
        expect={ANON: "login", **roles("403", *LOGGED_IN)},
        state=lambda w: w.klass.attendance.count(),
    ),
    # --- attendance devices and online platforms ------------------------------------------------------------------
    "intake:devices": Entry(
        secrets=lambda w: {w.device.code: STRANGERS},
        expect=page(*OFFICIALS, OPERATOR, OTHER_OPERATOR),
    ),
    "intake:device_create": Entry(expect=page(OPERATOR, OTHER_OPERATOR)),
    "intake:device_detail": Entry(kwargs=lambda w: {"pk": w.device.pk}, expect=page(*CLASS_VIEWERS)),
    "intake:device_revoke": Entry(
        kwargs=lambda w: {"pk": w.device.pk},
        method="POST",
        expect=page(REGION, CITY, OPERATOR),
        state=lambda w: type(w.device).objects.get(pk=w.device.pk).status,
    ),
    "intake:platforms": Entry(
        secrets=lambda w: {w.platform.name: (OTHER_CITY,)}, expect=page(*OFFICIALS, PLATFORM)
    ),
    "intake:platform_file": Entry(expect=page(PLATFORM)),
    # filed with 呼和浩特市: the offices covering the city, and the platform's own operator
    "intake:platform_detail": Entry(
        kwargs=lambda w: {"pk": w.platform.pk}, expect=page(REGION, CITY, INSPECTOR, PLATFORM)
    ),
    "intake:platform_edit": Entry(kwargs=lambda w: {"pk": w.returned_platform.pk}, expect=page(PLATFORM)),
    "intake:platform_secret": Entry(
        kwargs=lambda w: {"pk": w.platform.pk},
        method="POST",
        expect=page(PLATFORM),
        state=lambda w: (
            type(w.platform).objects.filter(pk=w.platform.pk).values_list("secret_cipher", flat=True)[0]
        ),
    ),
    "intake:platform_transition": Entry(
        kwargs=lambda w: {"pk": w.platform.pk, "transition": "approve"}, expect=page(REGION, CITY)
    ),
    # --- attendance and hours -----------------------------------------------------------------------------------
    "attendance:class_sheet": Entry(kwargs=klass, expect=page(*CLASS_VIEWERS)),
    "attendance:sheet_xlsx": Entry(kwargs=klass, expect=page(*CLASS_VIEWERS)),
    "attendance:sheet_pdf": Entry(kwargs=klass, expect=page(*CLASS_VIEWERS)),
    "attendance:upload": Entry(kwargs=klass, expect=page(OPERATOR)),
    "attendance:upload_template": Entry(kwargs=klass, expect=page(OPERATOR)),
    "attendance:trainee": Entry(
        kwargs=lambda w: {"pk": w.klass.pk, "public_id": w.world.li_ming.public_id},
        expect=page(*CLASS_VIEWERS, TRAINEE),
    ),
    "attendance:online_record_pdf": Entry(
        kwargs=lambda w: {"pk": w.klass.pk, "public_id": w.world.li_ming.public_id},
        expect=page(*CLASS_VIEWERS, TRAINEE),
    ),
    "attendance:correct": Entry(kwargs=lambda w: {"pk": w.record.pk}, expect=page(OPERATOR)),
    "attendance:my": Entry(
        shown_to=(TRAINEE,),
        secrets=lambda w: {w.klass.code: STRANGERS},
        expect=page(TRAINEE, OTHER_TRAINEE),
    ),
    # --- certificates (第十二、十三条) ---------------------------------------------------------------------------
    "certificates:list": Entry(
        secrets=lambda w: {w.certificate.number: STRANGERS},
        expect=page(*[r for r in LOGGED_IN if r != PLATFORM]),
    ),
    "certificates:record": Entry(expect=page(REGION, CITY, OTHER_CITY, EVALUATOR)),
    "certificates:detail": Entry(
        kwargs=lambda w: {"pk": w.certificate.pk}, expect=page(*CLASS_VIEWERS, TRAINEE)
    ),
    "certificates:pdf": Entry(
        kwargs=lambda w: {"pk": w.certificate.pk}, expect=page(*CLASS_VIEWERS, TRAINEE)
    ),
    "certificates:revoke": Entry(
        kwargs=lambda w: {"pk": w.certificate.pk},
        method="POST",
        data=lambda w: {"reason": "测试撤销"},
        expect=page(REGION, CITY),
        state=lambda w: type(w.certificate).objects.get(pk=w.certificate.pk).revoked_at,
    ),
    "certificates:verify": Entry(kwargs=lambda w: {"token": w.certificate.verify_token}, expect=PUBLIC),
    # --- subsidies (第十四条) ---------------------------------------------------------------------------------
    "subsidies:applications": Entry(
        secrets=lambda w: {w.application.code: STRANGERS},
        expect=page(*OFFICIALS, OPERATOR, OTHER_OPERATOR, TRAINEE, OTHER_TRAINEE),
    ),
    "subsidies:application_detail": Entry(
        kwargs=lambda w: {"pk": w.application.pk}, expect=page(*CLASS_VIEWERS)
    ),
    "subsidies:application_move": Entry(
        kwargs=lambda w: {"pk": w.application.pk, "name": "approve"}, expect=page(REVIEWER, CITY)
    ),
    "subsidies:line_stop": Entry(
        kwargs=lambda w: {"pk": w.line.pk},
        method="POST",
        data=lambda w: {"reason": "证书已撤销"},
        expect=page(REVIEWER, CITY),
        state=lambda w: type(w.line).objects.get(pk=w.line.pk).status,
    ),
    "subsidies:apply": Entry(kwargs=lambda w: {"class_pk": w.klass.pk}, expect=page(OPERATOR, TRAINEE)),
    "subsidies:objections": Entry(
        shown_to=(CITY,),
        secrets=lambda w: {w.institution.name: STRANGERS},
        expect=page(CITY, REVIEWER, OTHER_REVIEWER, OTHER_CITY),
    ),
    "subsidies:objection_decide": Entry(kwargs=lambda w: {"pk": w.objection.pk}, expect=page(REVIEWER, CITY)),
    "subsidies:payments": Entry(expect=page(FINANCE)),
    "subsidies:payment_record": Entry(kwargs=lambda w: {"pk": w.application.pk}, expect=page(FINANCE)),
    "subsidies:notices": Entry(expect=PUBLIC),
    "subsidies:objection_lodge": Entry(kwargs=lambda w: {"line_pk": w.line.pk}, expect=PUBLIC),
    # without an objection just lodged (in the session) it sends anyone back to the 公示 list
    "subsidies:objection_thanks": Entry(expect=roles("ok", *ROLES)),
    # ---站内消息 -------------------------------------------------------------------------------------------------
    "inbox:inbox": Entry(
        shown_to=(OPERATOR,),
        secrets=lambda w: {w.message.title: tuple(r for r in LOGGED_IN if r != OPERATOR)},
        expect=ANY_LOGIN,
    ),
    # another user's message id does nothing (the same redirect to the inbox)
    "inbox:read": Entry(
        kwargs=lambda w: {"pk": w.message.pk},
        method="POST",
        expect={ANON: "login", **roles("noop", *LOGGED_IN), OPERATOR: "ok"},
        state=lambda w: type(w.message).objects.get(pk=w.message.pk).read_at,
    ),
    "inbox:read_all": Entry(method="POST", expect=ANY_LOGIN),
    # --- 监督检查 (第二十至二十五条) ----------------------------------------------------------------------------
    "supervision:home": Entry(expect=page(*SUPERVISION)),
    "supervision:draws": Entry(
        secrets=lambda w: {w.draw.code: (OTHER_CITY,)}, expect=page(REGION, CITY, OTHER_CITY)
    ),
    "supervision:draw_create": Entry(expect=page(REGION, CITY, OTHER_CITY)),
    # the draw is 呼和浩特市's: its organisers (and the region) only
    "supervision:draw_detail": Entry(kwargs=lambda w: {"pk": w.draw.pk}, expect=page(REGION, CITY)),
    "supervision:draw_execute": Entry(
        kwargs=lambda w: {"pk": w.draw.pk}, method="POST", expect=page(REGION, CITY), state=draw_state
    ),
    "supervision:draw_cancel": Entry(
        kwargs=lambda w: {"pk": w.draw.pk},
        method="POST",
        data=lambda w: {"reason": "测试作废"},
        expect=page(REGION, CITY),
        state=draw_state,
    ),
    "supervision:draw_pool": Entry(kwargs=lambda w: {"pk": w.draw.pk}, expect=page(REGION, CITY)),
    "supervision:assignment_replace": Entry(
        kwargs=lambda w: {"pk": w.draw.pk},
        method="POST",
        data=lambda w: {"assignment": w.assignment.pk, "reason": "回避"},
        expect=page(REGION, CITY),
        state=lambda w: list(type(w.assignment).objects.filter(target__draw=w.draw).values()),
    ),
    "supervision:inspectors": Entry(expect=page(REGION, CITY, OTHER_CITY)),
    "supervision:inspector_active": Entry(
        kwargs=lambda w: {"pk": w.inspector.pk},
        method="POST",
        data=lambda w: {"reason": "调离"},
        expect=page(REGION, CITY),
        state=lambda w: type(w.inspector).objects.get(pk=w.inspector.pk).active,
    ),
    "supervision:conflicts": Entry(expect=page(REGION, CITY, OTHER_CITY, INSPECTOR)),
    # 韩磊's declared conflict: the organisers over 新城区 (an inspector withdraws only their own)
    "supervision:conflict_withdraw": Entry(
        kwargs=lambda w: {"pk": w.conflict.pk},
        method="POST",
        data=lambda w: {"reason": "已调离"},
        expect=page(REGION, CITY),
        state=lambda w: type(w.conflict).objects.get(pk=w.conflict.pk).withdrawn_at,
    ),
    # a planned inspection is known to its organisers and inspectors only (unannounced means unannounced)
    "supervision:inspections": Entry(
        secrets=lambda w: {
            w.inspection.code: STRANGERS,
            w.planned.code: (*STRANGERS, REVIEWER, FINANCE, OPERATOR),
        },
        expect=page(*SUPERVISION),
    ),
    "supervision:inspection_create": Entry(expect=page(REGION, CITY, OTHER_CITY, INSPECTOR)),
    "supervision:inspection_detail": Entry(kwargs=inspection, expect=page(*CLASS_VIEWERS)),
    "supervision:inspection_record": Entry(kwargs=lambda w: {"pk": w.planned.pk}, expect=page(INSPECTOR)),
    "supervision:inspection_photo": Entry(kwargs=inspection, method="POST", expect=page(INSPECTOR)),
    "supervision:phone_checks": Entry(kwargs=inspection, expect=page(INSPECTOR)),
    # closed by an assigned inspector or by those who decide sanctions
    "supervision:inspection_close": Entry(
        kwargs=inspection,
        method="POST",
        data=lambda w: {"note": "复查合格"},
        expect={
            **page(REGION, CITY, INSPECTOR),
            **{r: "404" for r in (REVIEWER, FINANCE, OPERATOR)},
        },
        state=inspection_state,
    ),
    "supervision:inspection_publish": Entry(
        kwargs=inspection, method="POST", expect=page(REGION, CITY), state=inspection_state
    ),
    # the rectification report is the inspected institution's to submit
    "supervision:inspection_rectification": Entry(
        kwargs=inspection,
        method="POST",
        data=lambda w: {"text": "已整改完毕"},
        expect={
            **page(OPERATOR),
            **{r: "404" for r in (REGION, CITY, REVIEWER, FINANCE, INSPECTOR)},
        },
        state=lambda w: type(w.rectification).objects.count(),
    ),
    "supervision:photo": Entry(kwargs=lambda w: {"pk": w.inspection_photo.pk}, expect=page(*CLASS_VIEWERS)),
    "supervision:rectification_file": Entry(
        kwargs=lambda w: {"pk": w.rectification.pk}, expect=page(*CLASS_VIEWERS)
    ),
    "supervision:violations": Entry(
        secrets=lambda w: {w.violation.code: STRANGERS}, expect=page(*SUPERVISION)
    ),
    "supervision:violation_create": Entry(expect=page(REGION, CITY, OTHER_CITY)),
    "supervision:violation_detail": Entry(kwargs=violation, expect=page(*CLASS_VIEWERS)),
    "supervision:sanction_create": Entry(kwargs=violation, expect=page(REGION, CITY)),
    "supervision:recovery_create": Entry(kwargs=violation, expect=page(REGION, CITY)),
    "supervision:violation_close": Entry(
        kwargs=violation,
        method="POST",
        data=lambda w: {"note": "结案"},
        expect=page(REGION, CITY),
        state=lambda w: type(w.violation).objects.get(pk=w.violation.pk).status,
    ),
    "supervision:sanction_end": Entry(
        kwargs=lambda w: {"pk": w.sanction.pk, "how": "complete"},
        method="POST",
        expect=page(REGION, CITY),
        state=sanction_state,
    ),
    "supervision:sanction_document": Entry(
        kwargs=lambda w: {"pk": w.sanction.pk}, expect=page(*CLASS_VIEWERS)
    ),
    # the 整改报告 of a 责令整改 is the sanctioned institution's to submit
    "supervision:sanction_rectification": Entry(
        kwargs=lambda w: {"pk": w.sanction.pk},
        method="POST",
        data=lambda w: {"text": "已整改完毕"},
        expect={
            **page(OPERATOR),
            **{r: "404" for r in (REGION, CITY, REVIEWER, FINANCE, INSPECTOR)},
        },
        state=lambda w: type(w.rectification).objects.count(),
    ),
    "supervision:recoveries": Entry(
        secrets=lambda w: {w.recovery.document_no: STRANGERS}, expect=page(*SUPERVISION)
    ),
    "supervision:recovery_receive": Entry(
        kwargs=lambda w: {"pk": w.recovery.pk},
        method="POST",
        expect=page(REGION, CITY, FINANCE),
        state=lambda w: type(w.recovery).objects.get(pk=w.recovery.pk).amount_recovered,
    ),
    "supervision:integrity": Entry(
        secrets=lambda w: {w.institution.name: STRANGERS}, expect=page(*SUPERVISION)
    ),
    "supervision:integrity_detail": Entry(
        kwargs=lambda w: {"pk": w.institution.pk}, expect=page(*CLASS_VIEWERS)
    ),
    "supervision:annual_list": Entry(expect=page(*SUPERVISION)),
    "supervision:clues": Entry(
        secrets=lambda w: {w.clue.code: (OTHER_CITY,)}, expect=page(REGION, CITY, OTHER_CITY)
    ),
    "supervision:clue_create": Entry(expect=page(REGION, CITY, OTHER_CITY)),
    # sent by 呼和浩特市: its bureau and the region
    "supervision:clue_detail": Entry(kwargs=lambda w: {"pk": w.clue.pk}, expect=page(REGION, CITY)),
    "supervision:clue_evidence": Entry(kwargs=lambda w: {"pk": w.clue.pk}, expect=page(REGION, CITY)),
    "supervision:clue_move": Entry(
        kwargs=lambda w: {"pk": w.clue.pk, "how": "reply"},
        method="POST",
        expect=page(REGION, CITY),
        state=lambda w: type(w.clue).objects.get(pk=w.clue.pk).status,
    ),
    "supervision:joint": Entry(expect=page(REGION, CITY, OTHER_CITY)),
    "supervision:staff_training": Entry(expect=page(REGION, CITY, OTHER_CITY)),
    # 一公开: the draws, and once every inspection of a draw is public, its pool and result
    "supervision:public_draws": Entry(expect=PUBLIC),
    "supervision:public_draw": Entry(kwargs=lambda w: {"pk": w.draw.pk}, expect=PUBLIC),
    "supervision:public_pool": Entry(kwargs=lambda w: {"pk": w.draw.pk}, expect=PUBLIC),
    "supervision:public_results": Entry(expect=PUBLIC),
    # --- 统计分析与就业跟踪 (第五条、第十七条) -------------------------------------------------------------------
    "reports:dashboard": Entry(expect=page(*SUPERVISION)),
    "reports:cities": Entry(expect=page(REGION)),
    "reports:employment": Entry(expect=page(*SUPERVISION)),
    "reports:export": Entry(
        kwargs=lambda w: {"page": "dashboard", "key": "month"}, expect=page(*SUPERVISION)
    ),
    "reports:class_employment": Entry(kwargs=klass, expect=page(*CLASS_VIEWERS)),
    "reports:follow_up": Entry(
        kwargs=lambda w: {"enrollment_pk": w.enrollment.pk, "checkpoint": 3},
        expect=page(REGION, CITY, REVIEWER, OPERATOR),
    ),
    "reports:needs": Entry(expect=page(*OFFICIALS)),
    "reports:standard": Entry(expect=page(REGION, CITY, REVIEWER, OTHER_REVIEWER, OTHER_CITY, FINANCE)),
    "reports:refresh": Entry(
        method="POST", expect=page(REGION, CITY, REVIEWER, OTHER_REVIEWER, OTHER_CITY, FINANCE)
    ),
    # a generated report is its author's (the region department's) only
    "reports:job": Entry(kwargs=lambda w: {"public_id": w.report_job.public_id}, expect=page(REGION)),
    "reports:job_progress": Entry(
        kwargs=lambda w: {"public_id": w.report_job.public_id}, expect=page(REGION)
    ),
    "reports:job_download": Entry(
        kwargs=lambda w: {"public_id": w.report_job.public_id}, expect=page(REGION)
    ),
    # --- the JSON API (/api/) ------------------------------------------------------------------------------------
    "api:openapi-json": Entry(expect=PUBLIC),
    "api:openapi-view": Entry(expect=PUBLIC),
    # ninja answers its root only with DEBUG on
    "api:api-root": Entry(expect=everyone("404")),
    "api:me": Entry(expect={ANON: "401", **roles("ok", *LOGGED_IN)}),
    "api:areas": Entry(expect={ANON: "401", **roles("ok", *LOGGED_IN)}),
    "api:persons": Entry(
        secrets=lambda w: {str(w.world.li_ming.public_id): STRANGERS},
        expect={ANON: "401", **roles("ok", *[r for r in LOGGED_IN if r != PLATFORM])},
    ),
    "api:person_detail": Entry(
        kwargs=lambda w: {"person_id": w.world.li_ming.public_id},
        expect={ANON: "401", **roles("ok", *CLASS_VIEWERS, TRAINEE)},
    ),
    # signed by the device's or platform's key: a login session is not enough
    "api:device_attendance": Entry(
        method="POST", json=True, data=lambda w: {"items": []}, expect=everyone("401")
    ),
    "api:platform_sessions": Entry(
        method="POST", json=True, data=lambda w: {"items": []}, expect=everyone("401")
    ),
    "api:class_list": Entry(
        secrets=lambda w: {w.klass.code: STRANGERS},
        expect={ANON: "401", **roles("ok", *[r for r in LOGGED_IN if r != PLATFORM])},
    ),
    "api:class_detail": Entry(kwargs=code, expect=API_CLASS_VIEWERS),
    "api:class_checks": Entry(kwargs=code, expect=API_CLASS_VIEWERS),
    "api:class_submit": Entry(kwargs=code, method="POST", json=True, expect=api_move((OPERATOR,))),
    "api:class_completion": Entry(kwargs=code, method="POST", json=True, expect=api_move((OPERATOR,))),
    "api:class_return": Entry(
        kwargs=code,
        method="POST",
        json=True,
        data=lambda w: {"deficiencies": ["请补充场地照片"]},
        expect=api_move((REVIEWER, CITY)),
    ),
    "api:class_approve": Entry(
        kwargs=code,
        method="POST",
        json=True,
        data=lambda w: {"reason": ""},
        expect=api_move((REVIEWER, CITY)),
    ),
    "api:class_reject": Entry(
        kwargs=code,
        method="POST",
        json=True,
        data=lambda w: {"reason": "不具备条件"},
        expect=api_move((REVIEWER, CITY)),
    ),
}
