"""培训补贴 (第十四条、第二十一条, 财社〔2023〕181号): the application with its 8-working-day review clock,
公示 and objections, payment (凡补必进、不进不补), the eligibility rules, the pages and the public 公示.

鸿翔 (新城区) ran 养老护理员 五级 class HX2026-0901 (2026-08-03 to 08-21), completed; 李明 and 陈静 hold
培训合格证 issued 2026-08-28. The region's catalog pays ¥1,500.00 per person. Reviewer 赵晓东 (新城区)
reviews; 吴红梅 (回民区) may not; finance officer 钱晓梅 (新城区) pays.
"""

import datetime as dt
import io
import re
import threading
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from peixun.accounts.roles import Role
from peixun.accounts.services import user_create
from peixun.attendance.hours import SHANGHAI
from peixun.catalog.models import Occupation
from peixun.catalog.services import CATALOG_COLUMNS, CATALOG_OPTIONAL, catalog_create, catalog_import_entries
from peixun.certificates.models import Certificate
from peixun.checks.models import Finding, HistoryTraining, RegistryKind, RegistryRow, RegistrySnapshot
from peixun.core.errors import PeixunError, PermissionDeniedError, TransitionError
from peixun.core.identity import mask_name
from peixun.core.models import Area, AuditEntry, CalendarYear
from peixun.core.tabular import read_table
from peixun.core.uscc import uscc_complete as uscc
from peixun.core.workdays import add_workdays, workdays_between
from peixun.inbox.models import Notification
from peixun.subsidies import eligibility as el
from peixun.subsidies import services
from peixun.subsidies.models import Objection, Payment, SubsidyApplication, SubsidyLine
from peixun.subsidies.services import (
    notices_close,
    objection_decide,
    objection_lodge,
    payment_record,
    subsidy_apply,
    subsidy_approve,
    subsidy_reject,
    subsidy_resubmit,
    subsidy_return,
    subsidy_withdraw,
)
from peixun.subsidies.workflow import APPLICATION_MOVES, LINE_MOVES, PAGE_MOVES, moves_for
from peixun.training.models import ClassStatus, Enrollment, TrainingClass
from peixun.web.pending import pending_for
from tests.conftest import PASSWORD

D = dt.date
A = SubsidyApplication.Status
L = SubsidyLine.Status

OCCUPATION = "4-10-01-05"  # 养老护理员
AMOUNT = Decimal("1500.00")
APPLY_DAY = D(2026, 9, 28)  # Monday before 国庆
RETURN_DAY = D(2026, 10, 9)  # Friday after 国庆
RESUBMIT_DAY = D(2026, 10, 16)
APPROVE_DAY = D(2026, 10, 20)  # Tuesday: 公示 2026-10-21 … 2026-10-27
NOTICE_START, NOTICE_END = D(2026, 10, 21), D(2026, 10, 27)
DURING_NOTICE = D(2026, 10, 22)
AFTER_NOTICE = D(2026, 10, 28)
CERTIFIED = D(2026, 8, 28)
HISTORY_DAY = D(2024, 6, 30)

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks and concurrent transactions need PostgreSQL"
)


class Clock:
    """Moves `timezone.now()` (and with it `localdate()` and auto_now fields) for the services."""

    def __init__(self, monkeypatch):
        self.monkeypatch = monkeypatch

    def travel(self, day: dt.date, hour: int = 10) -> None:
        moment = dt.datetime.combine(day, dt.time(hour), tzinfo=SHANGHAI)
        self.monkeypatch.setattr(timezone, "now", lambda: moment)


class Setup:
    def __init__(self, world, clock: Clock):
        self.world, self.clock = world, clock
        # Transactional tests flush the migration's occupations; the catalog needs this one.
        Occupation.objects.get_or_create(code=OCCUPATION, defaults={"name": "养老护理员"})
        # Pages under test run on today's date; a deadline may reach into next year.
        next_year = timezone.localdate().year + 1
        if not CalendarYear.objects.filter(year=next_year).exists():
            CalendarYear.objects.create(year=next_year, source="测试：仅按周末计算")
        self.area = Area.objects.get(code="150102")
        self.institution = institution_register_once(world)
        self.operator = user_create(
            username="hx_subsidy",
            password=PASSWORD,
            role=Role.INSTITUTION_OPERATOR,
            display_name="马文华",
            organisation=self.institution.organisation,
            actor=None,
        )
        self.finance = user_create(
            username="qian_finance",
            password=PASSWORD,
            role=Role.FINANCE,
            display_name="钱晓梅",
            organisation=world.xincheng,
            actor=None,
        )
        self.huimin_finance = user_create(
            username="sun_finance",
            password=PASSWORD,
            role=Role.FINANCE,
            display_name="孙丽",
            organisation=world.huimin,
            actor=None,
        )
        catalog = catalog_create(
            area=Area.objects.get(code="150000"),
            title="2026年自治区职业技能培训补贴目录",
            valid_from=D(2026, 1, 1),
            actor=world.region_admin,
        )
        csv = "\n".join([",".join(CATALOG_COLUMNS), f"{OCCUPATION},5,EMPLOYMENT,1500,80"]) + "\n"
        table = read_table(
            io.BytesIO(csv.encode()),
            filename="catalog.csv",
            required=CATALOG_COLUMNS,
            optional=CATALOG_OPTIONAL,
        )
        catalog_import_entries(catalog=catalog, table=table, actor=world.region_admin)
        self.klass = TrainingClass.objects.create(
            code="HX2026-0901",
            institution=self.institution,
            area=self.area,
            occupation_code=OCCUPATION,
            occupation_name="养老护理员",
            level="5",
            training_type="EMPLOYMENT",
            start_date=D(2026, 8, 3),
            end_date=D(2026, 8, 21),
            total_hours=Decimal("96"),
            status=ClassStatus.COMPLETED,
        )
        self.li_ming, self.chen_jing = world.li_ming, world.chen_jing
        self.li_enrollment = Enrollment.objects.create(
            training_class=self.klass, person=self.li_ming, category="RURAL_MIGRANT"
        )
        self.chen_enrollment = Enrollment.objects.create(
            training_class=self.klass, person=self.chen_jing, category="REGISTERED_UNEMPLOYED"
        )
        self.li_cert = self.certificate(self.li_ming, "150100-2026-000101")
        self.chen_cert = self.certificate(self.chen_jing, "150100-2026-000102")

    def certificate(self, person, number, issued_on=CERTIFIED, **kw) -> Certificate:
        return Certificate.objects.create(
            number=number,
            kind=Certificate.Kind.TRAINING,
            person=person,
            training_class=kw.pop("training_class", self.klass),
            occupation_code=OCCUPATION,
            occupation_name="养老护理员",
            level="5",
            issued_on=issued_on,
            issuer_area=Area.objects.get(code="150100"),
            recorded_by=self.world.hohhot_admin,
            **kw,
        )

    def apply(self, *, day=APPLY_DAY, actor=None, **kw) -> SubsidyApplication:
        self.clock.travel(day)
        actor = actor or self.operator
        if actor.role == Role.TRAINEE:
            kw.setdefault("payee_account", "6217000000000000011")
        else:
            kw.setdefault("payee_name", self.institution.name)
            kw.setdefault("payee_account", "0602 0000 1234 5678")
            kw.setdefault("payee_bank", "中国工商银行呼和浩特新城支行")
        return subsidy_apply(training_class=self.klass, actor=actor, **kw).application

    def approve(self, app, *, day=APPROVE_DAY, actor=None, **kw) -> SubsidyApplication:
        self.clock.travel(day)
        return subsidy_approve(application=app, actor=actor or self.world.xincheng_reviewer, **kw)

    def in_notice(self) -> SubsidyApplication:
        return self.approve(self.apply())

    def payable(self) -> SubsidyApplication:
        app = self.in_notice()
        notices_close(AFTER_NOTICE)
        self.clock.travel(AFTER_NOTICE)
        app.refresh_from_db()
        return app

    def line(self, app, person) -> SubsidyLine:
        return app.lines.get(person=person)

    def pay(self, app, lines=None, *, actor=None, voucher="PZ2026-1028-01", amount=None, **kw):
        lines = list(lines if lines is not None else app.lines.filter(status=L.PAYABLE))
        return payment_record(
            application=app,
            lines=lines,
            actor=actor or self.finance,
            payee_kind=kw.pop("payee_kind", Payment.PayeeKind.INSTITUTION_ACCOUNT),
            payee_name=self.institution.name,
            payee_account="0602 0000 1234 5678",
            voucher_no=voucher,
            paid_on=kw.pop("paid_on", AFTER_NOTICE),
            amount=amount if amount is not None else sum((line.amount for line in lines), Decimal("0")),
            outcome=kw.pop("outcome", Payment.Outcome.PAID),
            **kw,
        )


def institution_register_once(world):
    from peixun.institutions.services import institution_register

    return institution_register(
        code=uscc("52150102MJY000041"),
        name="呼和浩特市鸿翔职业技能培训学校",
        type="PRIVATE_SCHOOL",
        area=Area.objects.get(code="150102"),
        actor=world.hohhot_admin,
    )


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


@pytest.fixture
def setup(world, clock):
    return Setup(world, clock)


# --- the transition tables ------------------------------------------------------------------------


def test_every_move_names_states_of_its_model():
    """第十四条: the tables that services, buttons and tests read use only real states."""
    for move in APPLICATION_MOVES:
        assert move.target in A.values and set(move.source) <= set(A.values), move
    for move in LINE_MOVES:
        assert move.target in L.values and set(move.source) <= set(L.values), move
    assert set(PAGE_MOVES) <= {m.name for m in APPLICATION_MOVES}


# --- apply ----------------------------------------------------------------------------------------


def test_institution_applies_with_the_catalog_amount_and_an_8_working_day_deadline(
    setup, django_capture_on_commit_callbacks
):
    """第十四条: applied Monday 2026-09-28, 8 working days over 国庆 (the 调休 Saturday 10-10 counts) →
    due 2026-10-14; each line pays the catalog's ¥1,500 in force on the class start date."""
    with django_capture_on_commit_callbacks(execute=True):
        app = setup.apply()
    assert re.fullmatch(r"BT2026\d{6}", app.code)
    assert (app.status, app.applicant_kind, app.submitted_on) == (A.SUBMITTED, "INSTITUTION", APPLY_DAY)
    assert (app.limit_workdays, app.workdays_used, app.due_date) == (8, 0, D(2026, 10, 14))
    lines = list(app.lines.order_by("id"))
    assert [(line.person, line.status, line.amount) for line in lines] == [
        (setup.li_ming, L.PENDING, AMOUNT),
        (setup.chen_jing, L.PENDING, AMOUNT),
    ]
    assert lines[0].certificate == setup.li_cert and lines[0].catalog_entry.subsidy_amount == AMOUNT
    entry = AuditEntry.objects.get(action="subsidy.applied")
    assert entry.object_id == str(app.pk) and "李*（" in str(entry.after["trainees"])
    assert Notification.objects.filter(user=setup.world.xincheng_reviewer, title__contains=app.code).exists()


def test_a_class_not_yet_completed_cannot_be_applied_for(setup):
    """第十四条: a subsidy is applied for after the completion review approved the class."""
    TrainingClass.objects.filter(pk=setup.klass.pk).update(status=ClassStatus.COMPLETION_REVIEW)
    with pytest.raises(TransitionError, match="结业审核通过后方可申请补贴"):
        setup.apply()
    assert not SubsidyApplication.objects.exists()


def test_another_institution_cannot_apply_for_the_class(setup):
    with pytest.raises(PermissionDeniedError):
        setup.apply(actor=setup.world.inst_b_operator)


def test_a_reviewer_cannot_apply(setup):
    with pytest.raises(PermissionDeniedError):
        setup.apply(actor=setup.world.xincheng_reviewer)


def test_trainees_with_problems_are_left_out_and_reported(setup):
    """第十四条 (一次性告知): 陈静 has no certificate — she is not put into the application, and the
    result says why; 李明 is applied for."""
    setup.chen_cert.delete()
    setup.clock.travel(APPLY_DAY)
    result = subsidy_apply(
        training_class=setup.klass,
        actor=setup.operator,
        payee_name="鸿翔",
        payee_account="0602",
        payee_bank="工行",
    )
    assert [line.person for line in result.application.lines.all()] == [setup.li_ming]
    assert [s.enrollment.person for s in result.skipped] == [setup.chen_jing]
    assert "未取得本次培训的证书" in result.skipped[0].problems[0]


def test_when_nobody_qualifies_nothing_is_created(setup):
    Certificate.objects.all().delete()
    with pytest.raises(PeixunError, match="没有符合补贴条件的学员.*李明：未取得"):
        setup.apply()
    assert not SubsidyApplication.objects.exists()


def test_a_trainee_applies_for_themself_paid_to_their_social_security_card(setup):
    """第十四条 个人申请: 李明 applies for his own subsidy; the payee is his card, in his name."""
    app = setup.apply(actor=setup.world.trainee, payee_name="别人")
    assert (app.applicant_kind, app.person, app.payee_name) == ("PERSON", setup.li_ming, "李明")
    assert [line.person for line in app.lines.all()] == [setup.li_ming]


def test_a_trainee_cannot_apply_for_someone_else(setup):
    with pytest.raises(PermissionDeniedError):
        setup.apply(actor=setup.world.trainee, person=setup.chen_jing)


def test_a_trainee_in_a_live_line_is_not_applied_for_twice(setup):
    """One live subsidy per trainee and class: after the institution applied, 李明's own application is
    refused with the application's number."""
    app = setup.apply()
    with pytest.raises(PeixunError, match=f"已在补贴申请{app.code}中"):
        setup.apply(actor=setup.world.trainee)
    assert SubsidyApplication.objects.count() == 1


def test_a_racing_second_application_meets_the_live_line_constraint(setup, monkeypatch):
    """If two applications pass the pre-check at once, uniq_live_subsidy_line lets only the first in;
    the second gets a Chinese message and leaves nothing behind."""
    setup.apply()
    real = services.subsidy_candidates

    def blind(**kw):  # the second request did not see the first one's lines yet
        return [services.Candidate(c.enrollment, c.certificate, []) for c in real(**kw)]

    monkeypatch.setattr(services, "subsidy_candidates", blind)
    with pytest.raises(PeixunError, match="已在其他补贴申请中"):
        setup.apply()
    assert SubsidyApplication.objects.count() == 1 and SubsidyLine.objects.count() == 2


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_operators_applying_at_once_make_exactly_one_application(world, clock):
    setup = Setup(world, clock)
    setup.clock.travel(APPLY_DAY)
    barrier, outcomes = threading.Barrier(2), []

    def apply_once():
        try:
            barrier.wait()
            outcomes.append(setup.apply())
        except PeixunError as exc:
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=apply_once) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(type(o).__name__ for o in outcomes) == ["PeixunError", "SubsidyApplication"]
    assert SubsidyApplication.objects.count() == 1 and SubsidyLine.objects.count() == 2


# --- the review clock -------------------------------------------------------------------------------


def test_return_stops_the_clock_and_resubmission_restarts_it_with_the_days_left(setup):
    """第十四条: 8 working days, not counting the time with the applicant. Applied 2026-09-28, returned
    Friday 10-09 after 4 working days (09-29, 09-30, 10-08, 10-09); resubmitted 10-16 — the 6 working
    days in between (incl. the 调休 Saturday 10-10) do not count — so 4 are left: due 10-22."""
    app = setup.apply()
    setup.clock.travel(RETURN_DAY)
    app = subsidy_return(
        application=app,
        actor=setup.world.xincheng_reviewer,
        reasons="收款账号与开户许可证不符\n补充学员承诺书",
    )
    assert (app.status, app.workdays_used, app.due_date) == (A.RETURNED, 4, None)
    assert app.returned_reasons == "收款账号与开户许可证不符\n补充学员承诺书"
    assert workdays_between(RETURN_DAY, RESUBMIT_DAY) == 6
    setup.clock.travel(RESUBMIT_DAY)
    app = subsidy_resubmit(application=app, actor=setup.operator, payee_account="0602 0000 8765 4321")
    assert (app.status, app.submitted_on, app.workdays_used) == (A.SUBMITTED, RESUBMIT_DAY, 4)
    assert app.due_date == D(2026, 10, 22) == add_workdays(RESUBMIT_DAY, 4)
    assert app.payee_account == "0602 0000 8765 4321"
    app = setup.approve(app, day=D(2026, 10, 21))
    assert app.workdays_used == 7  # 4 before the return, 10-19, 10-20, 10-21 after


def test_return_needs_at_least_one_item(setup):
    app = setup.apply()
    with pytest.raises(PeixunError, match="一次性告知"):
        subsidy_return(application=app, actor=setup.world.xincheng_reviewer, reasons=" \n ")


def test_only_the_applicant_resubmits_and_only_a_returned_application(setup):
    app = setup.apply()
    with pytest.raises(TransitionError, match="不能补正后重新提交"):
        subsidy_resubmit(application=app, actor=setup.operator)
    subsidy_return(application=app, actor=setup.world.xincheng_reviewer, reasons=["补充材料"])
    with pytest.raises(PermissionDeniedError):
        subsidy_resubmit(application=app, actor=setup.world.xincheng_reviewer)
    with pytest.raises(TransitionError, match="不能审核通过并公示"):
        setup.approve(app)


def test_a_reviewer_of_another_county_cannot_decide(setup):
    """Scope: 回民区's reviewer does not review 新城区's class; the city (escalation) may."""
    app = setup.apply()
    with pytest.raises(PermissionDeniedError):
        setup.approve(app, actor=setup.world.huimin_reviewer)
    with pytest.raises(PermissionDeniedError):
        subsidy_reject(application=app, actor=setup.world.baotou_admin, reason="不符合")
    assert setup.approve(app, actor=setup.world.hohhot_admin).status == A.NOTICE


def test_withdrawing_frees_the_trainees_for_a_new_application(setup):
    app = setup.apply()
    subsidy_withdraw(application=app, actor=setup.operator, reason="收款账户变更")
    app.refresh_from_db()
    assert app.status == A.WITHDRAWN and set(app.lines.values_list("status", flat=True)) == {L.REFUSED}
    assert setup.apply().lines.count() == 2


# --- approval --------------------------------------------------------------------------------------


def test_approval_puts_the_trainees_into_notice_from_the_next_working_day(
    setup, django_capture_on_commit_callbacks
):
    """第十四条: approved Tuesday 2026-10-20 → 公示 2026-10-21 to 10-27 (5 working days)."""
    app = setup.apply()
    with django_capture_on_commit_callbacks(execute=True):
        app = setup.approve(app, reason="材料齐全")
    assert (app.status, app.notice_start, app.notice_end) == (A.NOTICE, NOTICE_START, NOTICE_END)
    assert (app.decided_by, app.decision_reason) == (setup.world.xincheng_reviewer, "材料齐全")
    assert set(app.lines.values_list("status", flat=True)) == {L.NOTICE}
    assert Notification.objects.filter(user=setup.operator, title__contains="公示").exists()


def test_approval_refuses_a_trainee_who_became_ineligible(setup):
    """Eligibility is judged again at approval: 陈静's certificate was revoked meanwhile."""
    app = setup.apply()
    Certificate.objects.filter(pk=setup.chen_cert.pk).update(
        revoked_at=timezone.now(), revoked_reason="考试作弊"
    )
    app = setup.approve(app)
    chen = setup.line(app, setup.chen_jing)
    assert chen.status == L.REFUSED and "已撤销" in chen.problems and "考试作弊" in chen.problems
    assert setup.line(app, setup.li_ming).status == L.NOTICE


def test_the_reviewer_refuses_one_trainee_with_a_reason(setup):
    app = setup.apply()
    chen = setup.line(app, setup.chen_jing)
    with pytest.raises(PeixunError, match="请填写不予补贴的理由：陈静"):
        setup.approve(app, line_decisions={chen.pk: (False, "")})
    app = setup.approve(app, line_decisions={chen.pk: (False, "本人未参加结业考核")})
    chen.refresh_from_db()
    assert (chen.status, chen.problems) == (L.REFUSED, "审核不予补贴：本人未参加结业考核")


def test_an_open_block_finding_stops_approval_until_decided_or_the_trainee_is_refused(setup):
    """Rules.md: a BLOCK finding stops the step until resolved — here 李明's PUBLIC_PAYROLL finding
    raised after the application."""
    app = setup.apply()
    Finding.objects.create(
        rule_code="PUBLIC_PAYROLL",
        severity="BLOCK",
        training_class=setup.klass,
        person=setup.li_ming,
        subject_key=setup.li_ming.id_hmac,
        evidence="财政供养信息",
        article="181号 第十六条",
        rules_version=1,
        last_found_at=timezone.now(),
    )
    with pytest.raises(PeixunError, match="须先处理问题线索：财政供养人员"):
        setup.approve(app)
    li = setup.line(app, setup.li_ming)
    app = setup.approve(app, line_decisions={li.pk: (False, "财政供养人员，不予补贴")})
    assert setup.line(app, setup.li_ming).status == L.REFUSED
    assert setup.line(app, setup.chen_jing).status == L.NOTICE


def test_reject_refuses_every_trainee_and_needs_a_reason(setup):
    app = setup.apply()
    with pytest.raises(PeixunError, match="理由"):
        subsidy_reject(application=app, actor=setup.world.xincheng_reviewer, reason="")
    app = subsidy_reject(application=app, actor=setup.world.xincheng_reviewer, reason="培训班存在虚假考勤")
    assert app.status == A.REJECTED
    assert set(app.lines.values_list("problems", flat=True)) == {"不予补贴：培训班存在虚假考勤"}


# --- 公示 and objections -----------------------------------------------------------------------------


def lodge(
    setup, app, person, *, day=DURING_NOTICE, name="王建华", content="此人未实际参加培训，由他人代签到"
):
    setup.clock.travel(day)
    return objection_lodge(line=setup.line(app, person), name=name, phone="13804710000", content=content)


def test_an_objection_during_notice_suspends_the_trainees_subsidy(setup):
    """第十四条 公示: anyone may object during the notice period; the subsidy is held meanwhile."""
    app = setup.in_notice()
    objection = lodge(setup, app, setup.li_ming)
    assert objection.status == Objection.Status.OPEN
    assert setup.line(app, setup.li_ming).status == L.SUSPENDED
    assert setup.line(app, setup.chen_jing).status == L.NOTICE
    entry = AuditEntry.objects.get(action="subsidy.objection_lodged")
    assert entry.after["phone"] == "138****0000" and entry.after["objector"] == "王*华"


def test_no_objection_before_or_after_the_notice_period(setup):
    app = setup.in_notice()
    for day in (APPROVE_DAY, AFTER_NOTICE):
        with pytest.raises(TransitionError, match="不在公示期内"):
            lodge(setup, app, setup.li_ming, day=day)
    assert lodge(setup, app, setup.li_ming, day=NOTICE_END).pk


def test_an_objection_needs_a_name_a_phone_and_its_content(setup):
    app = setup.in_notice()
    setup.clock.travel(DURING_NOTICE)
    with pytest.raises(PeixunError, match="请填写您的姓名；请填写有效的联系电话.*具体内容"):
        objection_lodge(line=setup.line(app, setup.li_ming), name="", phone="12", content="不对")


def test_an_upheld_objection_refuses_the_trainees_subsidy(setup):
    app = setup.in_notice()
    objection = lodge(setup, app, setup.li_ming)
    objection_decide(
        objection=objection, actor=setup.world.xincheng_reviewer, upheld=True, reason="经核实代签到属实"
    )
    li = setup.line(app, setup.li_ming)
    assert (li.status, li.problems) == (L.REFUSED, "公示异议成立：经核实代签到属实")


def test_a_dismissed_objection_returns_the_trainee_to_notice(setup):
    app = setup.in_notice()
    objection = lodge(setup, app, setup.li_ming)
    objection_decide(
        objection=objection, actor=setup.world.xincheng_reviewer, upheld=False, reason="考勤照片核实为本人"
    )
    assert setup.line(app, setup.li_ming).status == L.NOTICE
    objection.refresh_from_db()
    assert objection.status == Objection.Status.DISMISSED


def test_an_objection_dismissed_after_the_period_makes_the_subsidy_payable(setup):
    app = setup.in_notice()
    objection = lodge(setup, app, setup.li_ming)
    notices_close(AFTER_NOTICE)
    app.refresh_from_db()
    assert app.status == A.NOTICE  # held open by the objection
    assert setup.line(app, setup.li_ming).status == L.SUSPENDED
    assert setup.line(app, setup.chen_jing).status == L.PAYABLE
    setup.clock.travel(AFTER_NOTICE)
    objection_decide(objection=objection, actor=setup.world.xincheng_reviewer, upheld=False, reason="不属实")
    app.refresh_from_db()
    assert setup.line(app, setup.li_ming).status == L.PAYABLE and app.status == A.CLOSED


def test_two_objections_hold_the_subsidy_until_both_are_decided(setup):
    app = setup.in_notice()
    first = lodge(setup, app, setup.li_ming)
    second = lodge(setup, app, setup.li_ming, name="张丽", content="此人是事业单位在编人员")
    objection_decide(objection=first, actor=setup.world.xincheng_reviewer, upheld=False, reason="不属实")
    assert setup.line(app, setup.li_ming).status == L.SUSPENDED
    objection_decide(objection=second, actor=setup.world.xincheng_reviewer, upheld=False, reason="不属实")
    assert setup.line(app, setup.li_ming).status == L.NOTICE


def test_only_a_reviewer_covering_the_class_decides_an_objection_and_only_once(setup):
    app = setup.in_notice()
    objection = lodge(setup, app, setup.li_ming)
    for actor in (setup.operator, setup.world.huimin_reviewer, setup.finance):
        with pytest.raises(PermissionDeniedError):
            objection_decide(objection=objection, actor=actor, upheld=False, reason="不属实")
    objection_decide(objection=objection, actor=setup.world.xincheng_reviewer, upheld=False, reason="不属实")
    with pytest.raises(TransitionError, match="已处理"):
        objection_decide(objection=objection, actor=setup.world.xincheng_reviewer, upheld=True, reason="属实")


def test_an_open_objection_suspends_payment(setup):
    """凡补必进、不进不补: a subsidy under objection is not paid, even after the period ended."""
    app = setup.in_notice()
    lodge(setup, app, setup.li_ming)
    notices_close(AFTER_NOTICE)
    setup.clock.travel(AFTER_NOTICE)
    li = setup.line(app, setup.li_ming)
    with pytest.raises(TransitionError, match="李明的补贴当前为“异议处理中”.*李明的公示异议尚未处理"):
        setup.pay(app, [li])
    assert not Payment.objects.exists()


# --- end of the notice period ----------------------------------------------------------------------


def test_the_notice_period_end_makes_the_subsidies_payable_and_closes_the_application(
    setup, django_capture_on_commit_callbacks
):
    """公示期满无异议 → 待拨付, from the day after the last notice day; running again changes nothing."""
    app = setup.in_notice()
    assert notices_close(NOTICE_END) == services.CloseResult(0, 0)
    with django_capture_on_commit_callbacks(execute=True):
        assert notices_close(AFTER_NOTICE) == services.CloseResult(2, 1)
    app.refresh_from_db()
    assert app.status == A.CLOSED and set(app.lines.values_list("status", flat=True)) == {L.PAYABLE}
    assert notices_close(AFTER_NOTICE) == services.CloseResult(0, 0)
    assert Notification.objects.filter(user=setup.finance, title__contains="待拨付").exists()


def test_the_close_notices_command(setup):
    setup.in_notice()
    out = StringIO()
    call_command("close_notices", "--date", AFTER_NOTICE.isoformat(), stdout=out)
    assert out.getvalue().strip() == "转为待拨付2人，公示结束1个申请"


# --- payment ---------------------------------------------------------------------------------------


def test_finance_pays_the_payable_subsidies(setup, django_capture_on_commit_callbacks):
    """第二十一条、181号: the money goes to the institution's account; the lines are paid."""
    app = setup.payable()
    with django_capture_on_commit_callbacks(execute=True):
        payment = setup.pay(app)
    assert (payment.outcome, payment.amount, payment.lines.count()) == ("PAID", Decimal("3000.00"), 2)
    assert set(app.lines.values_list("status", flat=True)) == {L.PAID}
    assert AuditEntry.objects.filter(action="subsidy.paid", object_id=str(app.pk)).exists()
    assert Notification.objects.filter(user=setup.operator, title__contains="已拨付").exists()


def test_payment_is_refused_for_anything_not_payable(setup):
    """凡补必进、不进不补: not under review, not in 公示, not refused, not paid twice."""
    app = setup.apply()
    setup.clock.travel(AFTER_NOTICE)
    with pytest.raises(TransitionError, match="未经审核通过.*不是待拨付"):
        setup.pay(app, app.lines.all())
    chen = setup.line(app, setup.chen_jing)
    app = setup.approve(app, line_decisions={chen.pk: (False, "未参加考核")})
    setup.clock.travel(DURING_NOTICE)
    with pytest.raises(TransitionError, match="公示期尚未结束.*“公示中”"):
        setup.pay(app, [setup.line(app, setup.li_ming)], paid_on=DURING_NOTICE)
    notices_close(AFTER_NOTICE)
    setup.clock.travel(AFTER_NOTICE)
    with pytest.raises(TransitionError, match="陈静的补贴当前为“不予补贴”"):
        setup.pay(app, [chen])
    setup.pay(app, [setup.line(app, setup.li_ming)])
    with pytest.raises(TransitionError, match="“已拨付”"):
        setup.pay(app, [setup.line(app, setup.li_ming)], voucher="PZ2026-1028-02")
    assert Payment.objects.count() == 1


def test_payment_is_refused_when_the_certificate_was_revoked_after_notice(setup):
    app = setup.payable()
    Certificate.objects.filter(pk=setup.li_cert.pk).update(revoked_at=timezone.now())
    with pytest.raises(TransitionError, match="李明的证书150100-2026-000101已撤销"):
        setup.pay(app)


def test_a_reviewer_stops_the_payment_of_a_revoked_certificate_and_the_rest_is_paid(setup, client):
    """凡补必进、不进不补: a line whose certificate was revoked after 公示 is refused with its reason;
    the finance officer pays the others. Finance cannot stop a line, and a paid line cannot be stopped."""
    from peixun.subsidies.services import line_stop

    app = setup.payable()
    li, chen = setup.line(app, setup.li_ming), setup.line(app, setup.chen_jing)
    Certificate.objects.filter(pk=setup.li_cert.pk).update(
        revoked_at=timezone.now(), revoked_reason="冒名顶替"
    )
    with pytest.raises(PermissionDeniedError):
        line_stop(line=li, actor=setup.finance, reason="证书已撤销")
    with pytest.raises(PeixunError, match="理由"):
        line_stop(line=li, actor=setup.world.xincheng_reviewer, reason=" ")
    client.force_login(setup.world.xincheng_reviewer)
    page = client.get(reverse("subsidies:application_detail", args=[app.pk])).content.decode()
    assert reverse("subsidies:line_stop", args=[li.pk]) in page
    client.post(reverse("subsidies:line_stop", args=[li.pk]), {"reason": "证书已撤销（冒名顶替）"})
    li.refresh_from_db()
    assert li.status == SubsidyLine.Status.REFUSED and li.problems == "停止拨付：证书已撤销（冒名顶替）"
    setup.pay(app, lines=[chen], amount=chen.amount)
    chen.refresh_from_db()
    assert chen.status == SubsidyLine.Status.PAID
    with pytest.raises(TransitionError, match="不能“停止拨付”"):
        line_stop(line=chen, actor=setup.world.xincheng_reviewer, reason="事后发现问题")


def test_the_amount_must_equal_the_sum_of_the_chosen_subsidies(setup):
    app = setup.payable()
    with pytest.raises(PeixunError, match="与所选2人补贴合计¥3,000.00不符"):
        setup.pay(app, amount=Decimal("1500"))


def test_the_payee_must_match_the_applicant(setup):
    app = setup.payable()
    with pytest.raises(PeixunError, match="培训机构基本账户"):
        setup.pay(app, payee_kind=Payment.PayeeKind.SOCIAL_SECURITY_CARD)


def test_a_failed_payment_keeps_the_subsidies_payable_and_a_retry_pays(setup):
    """The bank returned the transfer: recorded with its reason, the lines stay 待拨付; the retry
    needs a new voucher."""
    app = setup.payable()
    with pytest.raises(PeixunError, match="银行退回的原因"):
        setup.pay(app, outcome=Payment.Outcome.FAILED)
    failed = setup.pay(app, outcome=Payment.Outcome.FAILED, failure_reason="户名与账号不符")
    assert failed.outcome == "FAILED"
    assert list(app.lines.values_list("status", "payments_failed")) == [(L.PAYABLE, 1), (L.PAYABLE, 1)]
    with pytest.raises(PeixunError, match="已登记过"):
        setup.pay(app)
    setup.pay(app, voucher="PZ2026-1028-02")
    assert set(app.lines.values_list("status", flat=True)) == {L.PAID}
    assert Payment.objects.count() == 2


def test_a_double_submitted_payment_records_one_payment(setup):
    app = setup.payable()
    lines = list(app.lines.all())
    setup.pay(app, lines)
    with pytest.raises(PeixunError):
        setup.pay(app, lines)
    assert Payment.objects.count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_finance_officers_at_once_record_one_payment(world, clock):
    setup = Setup(world, clock)
    app = setup.payable()
    second = user_create(
        username="li_finance",
        password=PASSWORD,
        role=Role.FINANCE,
        display_name="李娜",
        organisation=world.hohhot,
        actor=None,
    )
    barrier, outcomes = threading.Barrier(2), []

    def pay(actor, voucher):
        try:
            barrier.wait()
            outcomes.append(setup.pay(app, actor=actor, voucher=voucher))
        except PeixunError as exc:
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=pay, args=(setup.finance, "PZ-A")),
        threading.Thread(target=pay, args=(second, "PZ-B")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(type(o).__name__ for o in outcomes) == ["Payment", "TransitionError"]
    assert Payment.objects.count() == 1 and set(app.lines.values_list("status", flat=True)) == {L.PAID}


def test_only_finance_covering_the_class_pays(setup):
    app = setup.payable()
    for actor in (setup.world.xincheng_reviewer, setup.huimin_finance, setup.operator):
        with pytest.raises(PermissionDeniedError):
            setup.pay(app, actor=actor)


# --- eligibility rules, pure (no database) ----------------------------------------------------------

KLASS = el.ClassFact("HX2026-0901", OCCUPATION, "养老护理员", "5", D(2026, 8, 3), D(2026, 8, 21))
CERT = el.CertificateFact("150100-2026-000101", "培训合格证", D(2026, 8, 28))
PARAMS = el.Params()


def facts(**kw) -> el.TraineeFacts:
    return el.TraineeFacts(
        klass=kw.pop("klass", KLASS), person_name="李明", certificate=kw.pop("certificate", CERT), **kw
    )


def history(occupation=OCCUPATION, level="5", completed=HISTORY_DAY) -> el.SubsidyRecord:
    return el.SubsidyRecord(
        el.SubsidyRecord.HISTORY, occupation, level, completed, f"历史{occupation}/{level}"
    )


def other_line(kind, start, code="HX2026-0999", occupation="6-18-02-04", level="5") -> el.SubsidyRecord:
    return el.SubsidyRecord(
        kind, occupation, level, start + dt.timedelta(days=20), f"申请{code}", start, code
    )


def test_rule_certificate_required_and_not_revoked():
    """第十四条: a subsidy needs a certificate; a revoked one does not count."""
    assert el.certificate_held(facts(certificate=None), PARAMS, D(2026, 9, 28))[0].startswith(
        "未取得本次培训的证书"
    )
    revoked = el.CertificateFact("X1", "培训合格证", D(2026, 8, 28), revoked=True, revoked_reason="冒名顶替")
    assert el.certificate_held(facts(certificate=revoked), PARAMS, D(2026, 9, 28)) == [
        "培训合格证X1已撤销，原因：冒名顶替，不能申请补贴"
    ]
    assert el.certificate_held(facts(), PARAMS, D(2026, 9, 28)) == []


def test_rule_application_window_after_the_certificate():
    """Rules.md: apply within 12 months of issue, the last day included."""
    assert el.within_window(facts(), PARAMS, D(2027, 8, 28)) == []
    assert "已超过申请期限" in el.within_window(facts(), PARAMS, D(2027, 8, 29))[0]
    assert el.add_months(D(2026, 8, 31), 6) == D(2027, 2, 28)


def test_rule_lifetime_cap_of_three():
    """财社〔2023〕181号 第五条: the 4th subsidised training is refused; the 3rd is not."""
    two = (history(completed=D(2019, 6, 1), occupation="A"), history(completed=D(2021, 6, 1), occupation="B"))
    assert el.lifetime_cap(facts(subsidies=two), PARAMS, D(2026, 9, 28)) == []
    three = (*two, history(completed=D(2023, 6, 1), occupation="C"))
    assert (
        "本次为第4次职业培训补贴，超过每人终身3次的上限"
        in el.lifetime_cap(facts(subsidies=three), PARAMS, D(2026, 9, 28))[0]
    )


def test_rule_lifetime_cap_counts_a_line_under_review_only_for_an_earlier_class():
    """Of two applications under review at once, the earlier class goes first (LIFETIME_CAP order)."""
    two = (history(completed=D(2019, 6, 1), occupation="A"), history(completed=D(2021, 6, 1), occupation="B"))
    later = other_line(el.SubsidyRecord.UNDER_REVIEW, D(2026, 9, 1))
    earlier = other_line(el.SubsidyRecord.UNDER_REVIEW, D(2026, 7, 1))
    passed_later = other_line(el.SubsidyRecord.PASSED, D(2026, 9, 1))
    assert el.lifetime_cap(facts(subsidies=(*two, later)), PARAMS, D(2026, 9, 28)) == []
    assert el.lifetime_cap(facts(subsidies=(*two, earlier)), PARAMS, D(2026, 9, 28))
    assert el.lifetime_cap(facts(subsidies=(*two, passed_later)), PARAMS, D(2026, 9, 28))


def test_rule_yearly_cap_when_the_region_sets_one():
    """Provinces may set a yearly cap (rules.md); counted by the calendar year of completion."""
    this_year = (history(occupation="A", completed=D(2026, 3, 1)),)
    last_year = (history(occupation="A", completed=D(2025, 12, 31)),)
    one = el.Params(yearly_cap=1)
    assert "2026年已享受1次" in el.yearly_cap(facts(subsidies=this_year), one, D(2026, 9, 28))[0]
    assert el.yearly_cap(facts(subsidies=last_year), one, D(2026, 9, 28)) == []
    assert el.yearly_cap(facts(subsidies=this_year), PARAMS, D(2026, 9, 28)) == []


@pytest.mark.parametrize(
    ("earlier_level", "class_level", "repeat"),
    [
        ("5", "5", True),  # same level
        ("4", "5", True),  # higher level already subsidised
        ("5", "4", False),  # moving up a level is no repeat
        ("SPECIAL", "SPECIAL", True),  # non-numeric levels: only equal
        ("BASIC", "5", False),
    ],
)
def test_rule_no_repeat_for_the_same_occupation_at_the_same_or_a_lower_level(
    earlier_level, class_level, repeat
):
    """第二十二条 (REPEAT_TRAINING): numeric levels compare as numbers, 1 highest; others only equal."""
    klass = el.ClassFact("HX2026-0901", OCCUPATION, "养老护理员", class_level, D(2026, 8, 3), D(2026, 8, 21))
    problems = el.no_repeat(
        facts(klass=klass, subsidies=(history(level=earlier_level),)), PARAMS, D(2026, 9, 28)
    )
    assert bool(problems) is repeat


def test_rule_no_repeat_ignores_another_occupation():
    assert el.no_repeat(facts(subsidies=(history(occupation="4-10-01-06"),)), PARAMS, D(2026, 9, 28)) == []


def test_rule_public_payroll_overlapping_the_class_dates():
    """财社〔2023〕181号 第十六条: a payroll period touching the class dates refuses; one that ended the
    day before the class started does not."""
    during = el.PeriodFact("新城区东街街道办事处", D(2026, 8, 21), None)
    before = el.PeriodFact("新城区东街街道办事处", D(2020, 1, 1), D(2026, 8, 2))
    assert "财政供养人员" in el.not_public_payroll(facts(payroll=(during,)), PARAMS, D(2026, 9, 28))[0]
    assert el.not_public_payroll(facts(payroll=(before,)), PARAMS, D(2026, 9, 28)) == []


def test_rule_open_block_findings_come_first():
    """Rules.md: BLOCK = decide the finding first; a confirmed 不予补贴 refuses."""
    person = el.FindingFact("财政供养人员", class_level=False)
    whole_class = el.FindingFact("超出办学许可范围", class_level=True)
    confirmed = el.FindingFact(
        "重复参加同一工种培训", class_level=False, confirmed=True, consequence_label="不予补贴"
    )
    problems = el.evaluate(facts(findings=(person, whole_class, confirmed)), PARAMS, D(2026, 9, 28))
    assert [(p.code, p.text) for p in problems] == [
        (el.FINDINGS_OPEN, "须先处理问题线索：财政供养人员、超出办学许可范围（全班）"),
        ("FINDING_CONFIRMED", "问题线索“重复参加同一工种培训”已确认，处理结果为不予补贴"),
    ]
    assert el.evaluate(facts(), PARAMS, D(2026, 9, 28)) == []


def test_rule_a_trainee_removed_from_the_roster_is_not_subsidised():
    assert el.on_roster(facts(removed_reason="变更申请移出"), PARAMS, D(2026, 9, 28)) == [
        "已移出本班花名册（变更申请移出），不予补贴"
    ]
    assert el.on_roster(facts(), PARAMS, D(2026, 9, 28)) == []


# --- the loader ------------------------------------------------------------------------------------


def test_the_loader_reads_history_payroll_findings_and_other_subsidies(setup):
    """The facts come from history.csv rows, the current payroll snapshot, this class's findings and
    the person's other live lines; a REVIEW finding and an old snapshot are not facts here."""
    HistoryTraining.objects.create(
        id_hmac=setup.li_ming.id_hmac,
        id_masked=setup.li_ming.id_masked,
        name="李明",
        occupation_code=OCCUPATION,
        level="4",
        training_type="EMPLOYMENT",
        completed_on=D(2023, 5, 10),
        institution_code="X",
        subsidy_amount=Decimal("1800"),
    )
    old = RegistrySnapshot.objects.create(
        kind=RegistryKind.PUBLIC_PAYROLL, file_name="old.csv", sha256="0", row_count=1
    )
    new = RegistrySnapshot.objects.create(
        kind=RegistryKind.PUBLIC_PAYROLL, file_name="new.csv", sha256="1", row_count=1
    )
    for snapshot, org in ((old, "旧单位"), (new, "新城区东街街道办事处")):
        RegistryRow.objects.create(
            snapshot=snapshot,
            kind=RegistryKind.PUBLIC_PAYROLL,
            line=2,
            id_hmac=setup.chen_jing.id_hmac,
            id_masked=setup.chen_jing.id_masked,
            name="陈静",
            date_from=D(2025, 1, 1),
            org_name=org,
        )
    for code, severity in (("PUBLIC_PAYROLL", "BLOCK"), ("LOCATION_MISMATCH", "REVIEW")):
        Finding.objects.create(
            rule_code=code,
            severity=severity,
            training_class=setup.klass,
            person=setup.chen_jing,
            subject_key=setup.chen_jing.id_hmac,
            evidence="…",
            article="…",
            rules_version=1,
            last_found_at=timezone.now(),
        )
    loaded = el.load_facts(setup.klass, [setup.li_enrollment, setup.chen_enrollment])
    li, chen = loaded[setup.li_enrollment.pk], loaded[setup.chen_enrollment.pk]
    assert li.certificate.number == "150100-2026-000101" and li.subsidies[0].level == "4"
    assert "已享受过" in el.no_repeat(li, PARAMS, D(2026, 9, 28))[0]
    assert [p.org_name for p in chen.payroll] == ["新城区东街街道办事处"]
    assert [f.rule_title for f in chen.findings] == ["财政供养人员"]


def test_a_certificate_of_an_evaluation_body_counts_when_issued_after_the_class_started(setup):
    setup.li_cert.delete()
    setup.certificate(setup.li_ming, "NM-SKILL-01", training_class=None, issued_on=D(2026, 8, 30))
    setup.certificate(setup.chen_jing, "NM-SKILL-02", training_class=None, issued_on=D(2026, 7, 1))
    setup.chen_cert.delete()
    loaded = el.load_facts(setup.klass, [setup.li_enrollment, setup.chen_enrollment])
    assert loaded[setup.li_enrollment.pk].certificate.number == "NM-SKILL-01"
    assert loaded[setup.chen_enrollment.pk].certificate is None  # issued before this training


# --- pages -----------------------------------------------------------------------------------------


def login(client, user) -> Client:
    client.force_login(user)
    return client


def test_the_application_list_is_scoped(client, setup):
    app = setup.apply()
    for user, sees in (
        (setup.operator, True),
        (setup.world.xincheng_reviewer, True),
        (setup.world.hohhot_admin, True),
        (setup.finance, True),
        (setup.world.huimin_reviewer, False),
        (setup.world.inst_b_operator, False),
        (setup.world.inst_b_operator, False),
    ):
        response = login(client, user).get(reverse("subsidies:applications"))
        assert response.status_code == 200
        assert (app.code in response.content.decode()) is sees, user
    # the row sums the application's own lines (counted for the page's rows only)
    from django.db.models import Sum

    from peixun.web.templatetags.peixun_tags import yuan

    html = (
        login(client, setup.world.xincheng_reviewer).get(reverse("subsidies:applications")).content.decode()
    )
    row = re.search(rf"{app.code}.*?</tr>", html, re.S).group(0)
    lines = app.lines.exclude(status="REFUSED")
    assert lines.count() > 0
    assert f'<td class="text-end">{app.lines.count()}</td>' in row
    assert str(yuan(lines.aggregate(s=Sum("amount"))["s"])) in row


def test_a_trainee_sees_only_their_own_line_of_an_institution_application(client, setup):
    """第十四条: the trainee follows the subsidy applied for on their behalf, and nobody else's."""
    app = setup.apply()
    page = login(client, setup.world.trainee).get(reverse("subsidies:applications")).content.decode()
    mine = page.split('id="my-subsidies"', 1)[1].split("</table>", 1)[0]
    assert app.code in mine and "待审核" in mine
    assert setup.world.chen_jing.name not in page


def test_a_foreign_application_is_a_404(client, setup):
    app = setup.apply()
    for user in (
        setup.world.huimin_reviewer,
        setup.world.baotou_admin,
        setup.world.inst_b_operator,
        setup.world.trainee,
    ):
        response = login(client, user).get(reverse("subsidies:application_detail", args=[app.pk]))
        assert response.status_code == 404, user


def test_the_detail_page_offers_the_moves_of_the_table(client, setup):
    app = setup.apply()
    setup.clock.travel(D(2026, 10, 13))
    page = (
        login(client, setup.world.xincheng_reviewer)
        .get(reverse("subsidies:application_detail", args=[app.pk]))
        .content.decode()
    )
    for name in ("approve", "return", "reject"):
        assert reverse("subsidies:application_move", args=[app.pk, name]) in page
    assert reverse("subsidies:application_move", args=[app.pk, "withdraw"]) not in page
    assert "2026-10-14" in page and "剩余1个工作日" in page and "text-bg-warning" in page
    assert "符合补贴条件" in page  # the reviewer's preview of the eligibility check
    page = (
        login(client, setup.operator)
        .get(reverse("subsidies:application_detail", args=[app.pk]))
        .content.decode()
    )
    assert reverse("subsidies:application_move", args=[app.pk, "withdraw"]) in page
    assert reverse("subsidies:application_move", args=[app.pk, "approve"]) not in page
    assert [m.name for m in moves_for(setup.finance, app)] == []


def test_a_move_page_the_user_may_not_use_is_a_404(client, setup):
    app = setup.apply()
    for user, name in (
        (setup.operator, "approve"),
        (setup.finance, "approve"),
        (setup.world.huimin_reviewer, "return"),
        (setup.world.xincheng_reviewer, "resubmit"),
        (setup.world.xincheng_reviewer, "pay"),
    ):
        assert (
            login(client, user).get(reverse("subsidies:application_move", args=[app.pk, name])).status_code
            == 404
        )


def test_the_institution_applies_through_the_page(client, setup):
    setup.clock.travel(APPLY_DAY)
    login(client, setup.operator)
    url = reverse("subsidies:apply", args=[setup.klass.pk])
    page = client.get(url).content.decode()
    assert "陈静" in page and "符合补贴条件" in page
    response = client.post(
        url,
        {
            "enrollment": [setup.li_enrollment.pk],
            "payee_name": setup.institution.name,
            "payee_account": "0602 0000 1234 5678",
            "payee_bank": "工商银行",
        },
    )
    app = SubsidyApplication.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "subsidies:application_detail", args=[app.pk]
    )
    assert [line.person for line in app.lines.all()] == [setup.li_ming]


def test_the_apply_page_of_another_institutions_class_is_a_404(client, setup):
    login(client, setup.world.inst_b_operator)
    assert client.get(reverse("subsidies:apply", args=[setup.klass.pk])).status_code == 404
    login(client, setup.world.xincheng_reviewer)
    assert client.get(reverse("subsidies:apply", args=[setup.klass.pk])).status_code == 404


def test_a_trainee_applies_through_the_page(client, setup):
    setup.clock.travel(APPLY_DAY)
    login(client, setup.world.trainee)
    assert setup.klass.code in client.get(reverse("subsidies:applications")).content.decode()
    response = client.post(
        reverse("subsidies:apply", args=[setup.klass.pk]), {"payee_account": "6217000000000000011"}
    )
    app = SubsidyApplication.objects.get()
    assert response.status_code == 302 and app.applicant_kind == "PERSON"


def test_the_reviewer_returns_and_approves_through_the_pages(client, setup):
    app = setup.apply()
    setup.clock.travel(RETURN_DAY)
    login(client, setup.world.xincheng_reviewer)
    client.post(reverse("subsidies:application_move", args=[app.pk, "return"]), {"reasons": "补充学员承诺书"})
    app.refresh_from_db()
    assert app.status == A.RETURNED
    login(client, setup.operator)
    page = client.get(reverse("subsidies:application_detail", args=[app.pk])).content.decode()
    assert "补充学员承诺书" in page
    client.post(reverse("subsidies:application_move", args=[app.pk, "resubmit"]), {"note": "已补充"})
    setup.clock.travel(APPROVE_DAY)
    login(client, setup.world.xincheng_reviewer)
    chen = setup.line(app, setup.chen_jing)
    response = client.post(
        reverse("subsidies:application_move", args=[app.pk, "approve"]),
        {"reason": "同意", f"refuse_{chen.pk}": "on", f"reason_{chen.pk}": "未参加考核"},
    )
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.status == A.NOTICE and setup.line(app, setup.chen_jing).status == L.REFUSED
    history = client.get(reverse("subsidies:application_detail", args=[app.pk])).content.decode()
    for label in ("申请培训补贴", "补贴申请退回补正", "补正后重新提交补贴申请", "补贴审核通过并公示"):
        assert label in history


def test_the_reviewer_decides_an_objection_through_the_page(client, setup):
    app = setup.in_notice()
    objection = lodge(setup, app, setup.li_ming)
    login(client, setup.world.xincheng_reviewer)
    assert "王建华" in client.get(reverse("subsidies:objections")).content.decode()
    response = client.post(
        reverse("subsidies:objection_decide", args=[objection.pk]), {"decision": "upheld", "reason": "属实"}
    )
    assert response.status_code == 302 and setup.line(app, setup.li_ming).status == L.REFUSED
    login(client, setup.world.huimin_reviewer)
    assert client.get(reverse("subsidies:objection_decide", args=[objection.pk])).status_code == 404
    login(client, setup.operator)
    assert client.get(reverse("subsidies:objections")).status_code == 404


def test_the_payment_page_closes_ended_notices_and_records_a_payment(client, setup):
    """Finance opens the page the day after 公示: the subsidies are payable there without the job."""
    app = setup.in_notice()
    setup.clock.travel(AFTER_NOTICE)
    login(client, setup.finance)
    page = client.get(reverse("subsidies:payments")).content.decode()
    assert app.code in page and "¥3,000.00" in page
    lines = list(app.lines.all())
    data = {
        "lines": [str(line.pk) for line in lines],
        "payee_kind": "INSTITUTION_ACCOUNT",
        "payee_name": setup.institution.name,
        "payee_account": "0602",
        "voucher_no": "PZ-1",
        "paid_on": AFTER_NOTICE.isoformat(),
        "amount": "3000.00",
        "outcome": "PAID",
    }
    response = client.post(reverse("subsidies:payment_record", args=[app.pk]), data)
    assert response.status_code == 302
    again = client.post(reverse("subsidies:payment_record", args=[app.pk]), data)  # double submission
    assert again.status_code == 200 and "已拨付" in again.content.decode()
    assert Payment.objects.count() == 1


def test_the_payment_pages_are_a_404_for_others(client, setup):
    app = setup.payable()
    for user in (setup.world.xincheng_reviewer, setup.operator):
        login(client, user)
        assert client.get(reverse("subsidies:payments")).status_code == 404
    login(client, setup.huimin_finance)
    assert client.get(reverse("subsidies:payment_record", args=[app.pk])).status_code == 404


def test_pending_work_for_reviewer_finance_and_applicant(setup):
    app = setup.apply()
    setup.clock.travel(D(2026, 10, 15))
    [review] = [i for i in pending_for(setup.world.xincheng_reviewer) if i.category == "补贴审核"]
    assert (review.due, review.urgency) == (D(2026, 10, 14), "danger") and "已逾期1个工作日" in review.title
    subsidy_return(application=app, actor=setup.world.xincheng_reviewer, reasons="补充材料")
    assert any(app.code in i.title for i in pending_for(setup.operator) if i.category == "补贴申请")
    subsidy_resubmit(application=app, actor=setup.operator)
    setup.approve(app)
    notices_close(AFTER_NOTICE)
    setup.clock.travel(AFTER_NOTICE)
    assert any(app.code in i.title for i in pending_for(setup.finance) if i.category == "补贴拨付")
    assert not [i for i in pending_for(setup.huimin_finance) if i.category == "补贴拨付"]


# --- the public 公示 ---------------------------------------------------------------------------------


def test_the_public_notice_shows_only_masked_names_and_id_numbers(setup):
    """181号 第二十八条: 公示 shows 李* and 150102********xxxx with institution, occupation, level and
    amount — never the full name, ID number or phone."""
    app = setup.in_notice()
    setup.clock.travel(DURING_NOTICE)
    response = Client().get(reverse("subsidies:notices"))
    page = response.content.decode()
    assert response.status_code == 200
    assert mask_name("李明") == "李*" and ">李*<" in page and setup.li_ming.id_masked in page
    assert setup.institution.name in page and "养老护理员" in page and "¥1,500.00" in page
    assert "2026-10-21 ~ 2026-10-27" in page
    for secret in (
        "李明",
        "陈静",
        setup.li_ming.reveal_id_number(),
        setup.chen_jing.reveal_id_number(),
        "13947112345",
    ):
        assert secret not in page
    assert reverse("subsidies:objection_lodge", args=[setup.line(app, setup.li_ming).pk]) in page
    assert 'href="/subsidies/notices/"' in Client().get(reverse("portal:home")).content.decode()


def test_the_public_notice_lists_nothing_before_or_after_its_period(setup):
    app = setup.in_notice()
    for day in (APPROVE_DAY, AFTER_NOTICE):
        setup.clock.travel(day)
        assert app.code not in Client().get(reverse("subsidies:notices")).content.decode()
        line = setup.line(app, setup.li_ming)
        assert Client().get(reverse("subsidies:objection_lodge", args=[line.pk])).status_code == 404


def test_anyone_objects_through_the_public_form_and_sees_a_confirmation(setup):
    app = setup.in_notice()
    setup.clock.travel(DURING_NOTICE)
    line = setup.line(app, setup.li_ming)
    browser = Client(enforce_csrf_checks=True)
    url = reverse("subsidies:objection_lodge", args=[line.pk])
    form = browser.get(url).content.decode()
    assert "李明" not in form and "李*" in form
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    assert (
        browser.post(url, {"name": "王建华", "phone": "13804710000", "content": "未参加培训"}).status_code
        == 403
    )
    response = browser.post(
        url,
        {
            "csrfmiddlewaretoken": token,
            "name": "王建华",
            "phone": "13804710000",
            "content": "此人未实际参加培训",
        },
        follow=True,
    )
    page = response.content.decode()
    assert "您的异议已提交成功" in page and "暂停拨付" in page
    assert setup.line(app, setup.li_ming).status == L.SUSPENDED
    objection = Objection.objects.get()
    assert objection.name == "王建华"
    assert re.fullmatch(r"YY\d{8}\d{5}", objection.receipt_no) and f"受理编号：{objection.receipt_no}" in page


def test_the_public_objection_form_turns_away_robots_and_explains_errors(setup):
    app = setup.in_notice()
    setup.clock.travel(DURING_NOTICE)
    url = reverse("subsidies:objection_lodge", args=[setup.line(app, setup.li_ming).pk])
    robot = Client().post(
        url, {"name": "a", "phone": "13800000000", "content": "spam spam", "homepage": "http://x"}
    )
    assert robot.status_code == 400 and not Objection.objects.exists()
    short = Client().post(url, {"name": "王建华", "phone": "13804710000", "content": "不对"})
    assert "请写明异议的具体内容" in short.content.decode() and not Objection.objects.exists()


def test_every_page_opens_for_its_role(client, setup):
    app = setup.apply()
    setup.clock.travel(D(2026, 10, 12))
    pages = [
        (setup.operator, reverse("subsidies:applications")),
        (setup.operator, reverse("subsidies:apply", args=[setup.klass.pk])),
        (setup.operator, reverse("subsidies:application_move", args=[app.pk, "withdraw"])),
        (setup.world.xincheng_reviewer, reverse("subsidies:application_detail", args=[app.pk])),
        (setup.world.xincheng_reviewer, reverse("subsidies:application_move", args=[app.pk, "approve"])),
        (setup.world.xincheng_reviewer, reverse("subsidies:application_move", args=[app.pk, "return"])),
        (setup.world.xincheng_reviewer, reverse("subsidies:application_move", args=[app.pk, "reject"])),
        (setup.world.xincheng_reviewer, reverse("subsidies:objections")),
        (setup.finance, reverse("subsidies:payments")),
        (setup.world.region_admin, reverse("subsidies:applications")),
        (setup.world.inspector, reverse("subsidies:application_detail", args=[app.pk])),
    ]
    for user, url in pages:
        assert login(client, user).get(url).status_code == 200, (user, url)
    subsidy_return(application=app, actor=setup.world.xincheng_reviewer, reasons="补充材料")
    assert (
        login(client, setup.operator)
        .get(reverse("subsidies:application_move", args=[app.pk, "resubmit"]))
        .status_code
        == 200
    )
    subsidy_resubmit(application=app, actor=setup.operator)
    app = setup.approve(app)
    objection = lodge(setup, app, setup.li_ming)
    assert (
        login(client, setup.world.xincheng_reviewer)
        .get(reverse("subsidies:objection_decide", args=[objection.pk]))
        .status_code
        == 200
    )
    objection_decide(objection=objection, actor=setup.world.xincheng_reviewer, upheld=False, reason="不属实")
    notices_close(AFTER_NOTICE)
    setup.clock.travel(AFTER_NOTICE)
    assert (
        login(client, setup.finance).get(reverse("subsidies:payment_record", args=[app.pk])).status_code
        == 200
    )
    assert Client().get(reverse("subsidies:objection_thanks")).status_code == 302
    client.logout()
    assert client.get(reverse("subsidies:applications")).status_code == 302  # to the login page


def test_the_list_offers_a_completed_class_until_every_trainee_is_in_a_live_application(setup):
    """第十四条: 申请补贴 is offered for a completed class while some trainee is in no live
    application; a withdrawn application frees them again."""
    from peixun.subsidies.views import _applicable

    def offered():
        return {r["klass"].pk: r["open"] for r in _applicable(setup.operator)}

    roster = setup.klass.enrollments.filter(removed_at__isnull=True).count()
    assert offered() == {setup.klass.pk: roster}
    app = setup.apply()
    assert offered().get(setup.klass.pk, 0) == roster - app.lines.count()
    subsidy_withdraw(application=app, actor=setup.operator, reason="材料有误，撤回重报")
    assert offered() == {setup.klass.pk: roster}
