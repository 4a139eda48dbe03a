"""统计报表 and 就业跟踪 (第五条、第十七条、第二十四条): who counts as completed and employed at 3 and 6
months (boundary days), the rates, every number scoped to its reader, report totals that are the
sums of their rows, Excel exports, and the incremental refresh agreeing with a full one.

The world of 2026 (today is Friday 2026-11-27):

- 鸿翔 (新城区) ran 养老护理员 class XC-0302, 2026-03-02 … 03-20, COMPLETED: 李明 passed (social
  insurance in June only), 张伟 failed the exam (employment filing from 09-20, the 6-month day),
  王芳 never reached the hours to sit the exam, 刘洋 passed (filing ended 06-19, the day before the
  3-month day; a follow-up says further study at 6 months), 赵磊 was taken off the roster.
  Subsidy: applied 04-01, approved 04-10, 李明's line paid 04-25, 刘洋's payable.
- 青城 (回民区) ran 家政服务员 class HM-0406, imported: 陈静 and 孙丽 passed; 陈静 insured from May.
- 钢城 (昆都仑区, 包头) ran a 岗位技能提升 class KD-1012, imported, ended 10-23: no checkpoint yet;
  subsidy of 2 × ¥1,000 applied 11-02, approved 11-10, one paid 11-20.
- 鸿翔 also has a class in training (started 11-16) and a draft.
"""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from peixun.accounts.roles import Role
from peixun.accounts.services import person_register, user_create
from peixun.attendance.hours import SHANGHAI
from peixun.certificates.models import Certificate
from peixun.checks.models import Finding, RegistryRow, RegistrySnapshot
from peixun.core.errors import PeixunError
from peixun.core.models import Area, AuditEntry, PersonAccessLog
from peixun.core.uscc import uscc_complete as uscc
from peixun.demand.models import DemandReport
from peixun.institutions.models import Institution
from peixun.reports import employment as rules
from peixun.reports.dashboards import Filters, dashboard_for, resolve_level
from peixun.reports.models import AreaMonthFact, ClassMonthFact, EmploymentOutcome, FollowUp
from peixun.reports.refresh import rebuild_area_facts, stats_refresh
from peixun.reports.services import employment_rate_for_institution, follow_up_record
from peixun.reports.standard import annual_statistics, monthly_statistics, payment_ledger, upgrade_account
from peixun.subsidies.models import Payment, SubsidyApplication, SubsidyLine
from peixun.training.models import ClassStatus, Enrollment, ExamResult, Review, TrainingClass
from tests.conftest import PASSWORD, new_id_number

D = dt.date
TODAY = D(2026, 11, 27)
ELDER_CARE, HOUSEKEEPING, WELDER = "4-10-01-05", "4-10-01-06", "6-18-02-04"


# --- the employment rule, without a database ----------------------------------------------------------


def si(start, end, code="91150100MA0000001X", name="呼和浩特市康馨养老服务中心"):
    return rules.Period(rules.SOCIAL_INSURANCE, start, end, code, name)


def filing(start, end, code="91150100MA0000002X"):
    return rules.Period(rules.EMPLOYMENT_FILING, start, end, code, "")


COMPLETED_ON = D(2026, 3, 20)


def judge(periods=(), manual=None, *, completed=COMPLETED_ON, checkpoint=3, today=TODAY, names=None):
    return rules.judge(
        completed_on=completed,
        checkpoint=checkpoint,
        periods=periods,
        manual=manual,
        today=today,
        employer_names=names,
    )


@pytest.mark.parametrize(
    ("completed", "months", "expected"),
    [
        (D(2026, 3, 20), 3, D(2026, 6, 20)),
        (D(2026, 3, 20), 6, D(2026, 9, 20)),
        (D(2026, 8, 31), 6, D(2027, 2, 28)),  # February is shorter: its last day
        (D(2023, 8, 31), 6, D(2024, 2, 29)),  # leap year
        (D(2026, 11, 30), 3, D(2027, 2, 28)),  # into the next year
        (D(2026, 1, 31), 3, D(2026, 4, 30)),
        (D(2026, 12, 15), 6, D(2027, 6, 15)),
    ],
)
def test_the_checkpoint_is_the_same_day_months_later_or_the_last_day_of_a_shorter_month(
    completed, months, expected
):
    """第十七条 follow-up points: 3 and 6 months after completion."""
    assert rules.checkpoint_date(completed, months) == expected


def test_a_checkpoint_is_reached_on_its_day_and_not_the_day_before():
    assert judge(today=D(2026, 6, 19)) is None
    assert judge(today=D(2026, 6, 20)).status == rules.UNKNOWN


def test_a_period_covering_the_checkpoint_day_counts_both_ends_inclusive():
    day = D(2026, 6, 20)
    assert judge([filing(day, None)]).employed  # begins on the day
    assert judge([filing(D(2026, 5, 1), day)]).employed  # ends on the day
    assert not judge([filing(D(2026, 5, 1), day - dt.timedelta(days=1))]).employed  # ended the day before
    assert not judge([filing(day + dt.timedelta(days=1), None)]).employed  # begins the day after
    assert judge([filing(D(2020, 1, 1), None)]).employed  # open-ended: still employed


def test_a_month_of_social_insurance_covers_every_day_of_that_month():
    june = si(D(2026, 6, 1), D(2026, 6, 30))
    assert judge([june]).employed
    assert not judge([june], checkpoint=6).employed


def test_the_registry_gives_the_employer_and_start_date_as_evidence():
    j = judge([si(D(2026, 5, 1), None)])
    assert (j.source, j.employer_name, j.employed_since) == (
        rules.SOCIAL_INSURANCE,
        "呼和浩特市康馨养老服务中心",
        D(2026, 5, 1),
    )
    named = judge([filing(D(2026, 6, 1), None, code="C1")], names={"C1": "包头钢铁（集团）有限责任公司"})
    assert named.employer_name == "包头钢铁（集团）有限责任公司"


def test_of_several_periods_the_one_begun_last_is_the_evidence_social_insurance_first_on_a_tie():
    old = si(D(2025, 1, 1), None, name="旧单位")
    new = filing(D(2026, 6, 1), None, code="NEW")
    assert judge([old, new]).employer_code == "NEW"
    same_day = [filing(D(2026, 6, 1), None, code="F"), si(D(2026, 6, 1), None, code="S")]
    assert judge(same_day).source == rules.SOCIAL_INSURANCE


def test_other_registries_do_not_count_as_employment():
    business = rules.Period("business_license", D(2026, 1, 1), None, "X", "个体户")
    assert judge([business]).status == rules.UNKNOWN


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        ("EMPLOYED", rules.EMPLOYED),
        ("SELF_EMPLOYED", rules.EMPLOYED),
        ("FURTHER_STUDY", rules.FURTHER_STUDY),
        ("UNEMPLOYED", rules.NOT_EMPLOYED),
        ("UNREACHABLE", rules.NOT_EMPLOYED),
    ],
)
def test_without_a_registry_period_the_follow_up_decides(outcome, status):
    j = judge(manual=rules.Manual(7, 3, outcome, "个体经营" if status == rules.EMPLOYED else ""))
    assert (j.status, j.source, j.follow_up_id) == (status, "follow_up", 7)


def test_a_registry_period_outweighs_a_follow_up_saying_unemployed():
    j = judge([filing(D(2026, 6, 1), None)], rules.Manual(7, 3, "UNEMPLOYED"))
    assert j.employed and j.source == rules.EMPLOYMENT_FILING and j.follow_up_id == 7


def test_employment_rate_leaves_further_study_out_of_the_denominator():
    assert rules.employment_rate(employed=1, reached=3, further_study=1) == Decimal("0.5000")
    assert rules.employment_rate(employed=2, reached=3, further_study=0) == Decimal("0.6667")  # half up
    assert rules.employment_rate(employed=0, reached=2, further_study=2) is None
    assert rules.employment_rate(employed=0, reached=0, further_study=0) is None
    assert rules.completion_rate(completed=3, ended=4) == Decimal("0.7500")
    assert rules.certificate_rate(certified=0, completed=0) is None


# --- the world ----------------------------------------------------------------------------------------


def moment(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=SHANGHAI)


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: moment(TODAY, 15))
    return TODAY


class Stats2026:
    def __init__(self, world):
        self.world = world
        area = Area.objects.get
        self.hongxiang = Institution.objects.create(
            organisation=world.inst_a,
            code=uscc("52150102MJY000051"),
            name="呼和浩特市鸿翔职业技能培训学校",
            type="PRIVATE_SCHOOL",
            area=area(code="150102"),
            status=Institution.Status.LISTED,
        )
        self.qingcheng = Institution.objects.create(
            organisation=world.inst_b,
            code=uscc("52150103MJY000052"),
            name="青城家政职业培训学校",
            type="PRIVATE_SCHOOL",
            area=area(code="150103"),
            status=Institution.Status.LISTED,
        )
        from peixun.accounts.models import Organisation
        from peixun.accounts.services import organisation_create

        gangcheng_org = organisation_create(
            name="包头市钢城职业技能培训学校",
            kind=Organisation.Kind.INSTITUTION,
            area=area(code="150203"),
            actor=None,
        )
        self.gangcheng = Institution.objects.create(
            organisation=gangcheng_org,
            code=uscc("52150203MJY000053"),
            name="包头市钢城职业技能培训学校",
            type="PRIVATE_SCHOOL",
            area=area(code="150203"),
            status=Institution.Status.LISTED,
        )
        self.gangcheng_operator = user_create(
            username="guo_gangcheng",
            password=PASSWORD,
            role=Role.INSTITUTION_OPERATOR,
            display_name="郭永胜",
            organisation=gangcheng_org,
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
        people = {}
        for seed, (name, code) in enumerate(
            [
                ("张伟", "150102"),
                ("王芳", "150102"),
                ("刘洋", "150104"),
                ("赵磊", "150102"),
                ("孙丽", "150103"),
            ],
            start=10,
        ):
            people[name], _ = person_register(
                id_number=new_id_number(code, D(1990, 1, 1 + seed), seed % 2 == 0, seed=seed),
                name=name,
                actor=None,
            )
        for seed, name in enumerate(("高峰", "韩梅"), start=30):
            people[name], _ = person_register(
                id_number=new_id_number("150203", D(1985, 2, seed - 20), True, seed=seed),
                name=name,
                actor=None,
            )
        self.people = people
        p = people
        li, chen = world.li_ming, world.chen_jing

        self.xc = self.klass(
            "XC-0302", self.hongxiang, "150102", ELDER_CARE, "养老护理员", "EMPLOYMENT",
            D(2026, 3, 2), D(2026, 3, 20), ClassStatus.COMPLETED,
        )  # fmt: skip
        self.li = self.enrol(self.xc, li, "RURAL_MIGRANT", exam=True)
        self.zhang = self.enrol(self.xc, p["张伟"], "REGISTERED_UNEMPLOYED", exam=False)
        self.wang = self.enrol(self.xc, p["王芳"], "RURAL_MIGRANT", exam=None)
        self.liu = self.enrol(self.xc, p["刘洋"], "GRADUATE", exam=True)
        self.zhao = self.enrol(self.xc, p["赵磊"], "RURAL_MIGRANT", exam=True)
        Enrollment.objects.filter(pk=self.zhao.pk).update(
            removed_at=moment(D(2026, 3, 5)), removed_reason="变更"
        )
        self.zhao.refresh_from_db()

        self.hm = self.klass(
            "HM-0406", self.qingcheng, "150103", HOUSEKEEPING, "家政服务员", "EMPLOYMENT",
            D(2026, 4, 6), D(2026, 4, 17), ClassStatus.IMPORTED,
        )  # fmt: skip
        self.chen = self.enrol(self.hm, chen, "REGISTERED_UNEMPLOYED", exam=True)
        self.sun = self.enrol(self.hm, p["孙丽"], "EMPLOYMENT_DIFFICULTY", exam=True)

        self.kd = self.klass(
            "KD-1012", self.gangcheng, "150203", WELDER, "焊工", "UPGRADE",
            D(2026, 10, 12), D(2026, 10, 23), ClassStatus.IMPORTED,
        )  # fmt: skip
        self.gao = self.enrol(self.kd, p["高峰"], "ENTERPRISE_EMPLOYEE", exam=True)
        self.han = self.enrol(self.kd, p["韩梅"], "ENTERPRISE_EMPLOYEE", exam=True)

        self.running = self.klass(
            "XC-1116", self.hongxiang, "150102", ELDER_CARE, "养老护理员", "EMPLOYMENT",
            D(2026, 11, 16), D(2026, 12, 4), ClassStatus.APPROVED,
        )  # fmt: skip
        self.enrol(self.running, p["王芳"], "RURAL_MIGRANT", exam=None)
        draft = self.klass(
            "XC-DRAFT", self.hongxiang, "150102", ELDER_CARE, "养老护理员", "EMPLOYMENT",
            D(2026, 12, 7), D(2026, 12, 18), ClassStatus.DRAFT,
        )  # fmt: skip
        self.enrol(draft, p["张伟"], "RURAL_MIGRANT", exam=None)

        self.registries()
        self.subsidies()
        Review.objects.create(
            training_class=self.xc, stage=Review.Stage.OPENING, state=Review.State.APPROVED, limit_workdays=5,
            first_submitted_at=moment(D(2026, 2, 16)), submitted_on=D(2026, 2, 16), workdays_used=3,
            decided_at=moment(D(2026, 2, 20)),
        )  # fmt: skip
        Review.objects.create(
            training_class=self.xc, stage=Review.Stage.COMPLETION, state=Review.State.APPROVED, limit_workdays=3,
            first_submitted_at=moment(D(2026, 3, 19)), submitted_on=D(2026, 3, 19), workdays_used=4,
            decided_at=moment(D(2026, 3, 25)),
        )  # fmt: skip
        for klass, rule, status in ((self.xc, "REPEAT_TRAINING", "OPEN"), (self.hm, "DECEASED", "CONFIRMED")):
            Finding.objects.create(
                rule_code=rule, severity="BLOCK", training_class=klass, subject_key=rule, status=status,
                evidence="—", article="第二十二条", rules_version=1, last_found_at=moment(D(2026, 5, 1)),
            )  # fmt: skip

    def klass(
        self, code, institution, area_code, occupation, name, ttype, start, end, status
    ) -> TrainingClass:
        return TrainingClass.objects.create(
            code=code,
            institution=institution,
            area=Area.objects.get(code=area_code),
            occupation_code=occupation,
            occupation_name=name,
            level="5",
            training_type=ttype,
            start_date=start,
            end_date=end,
            total_hours=Decimal("80"),
            status=status,
            source="IMPORT" if status == ClassStatus.IMPORTED else "SYSTEM",
        )

    def enrol(self, klass, person, category, *, exam) -> Enrollment:
        enrollment = Enrollment.objects.create(training_class=klass, person=person, category=category)
        if exam is not None:
            ExamResult.objects.create(
                training_class=klass,
                person=person,
                exam_date=klass.end_date,
                score=80 if exam else 40,
                passed=exam,
            )
        return enrollment

    def registries(self):
        w = self.world
        rows = [
            ("social_insurance", w.li_ming, D(2026, 6, 1), D(2026, 6, 30), "91150100MA0000001X", "呼和浩特市康馨养老服务中心"),
            ("employment_filing", self.people["张伟"], D(2026, 9, 20), None, "91150200MA0000003X", ""),
            ("social_insurance", self.people["张伟"], D(2025, 1, 1), D(2025, 12, 31), "91150200MA0000003X", "包头市鹿城家政服务有限公司"),
            ("employment_filing", self.people["刘洋"], D(2026, 3, 25), D(2026, 6, 19), "91150100MA0000004X", ""),
            ("social_insurance", w.chen_jing, D(2026, 5, 1), None, "91150100MA0000005X", "呼和浩特市新城区社区卫生服务中心"),
        ]  # fmt: skip
        snapshots = {}
        for line, (kind, person, start, end, code, name) in enumerate(rows, start=2):
            if kind not in snapshots:
                snapshots[kind] = RegistrySnapshot.objects.create(
                    kind=kind, file_name=f"{kind}.csv", sha256="0" * 64, row_count=0
                )
            RegistryRow.objects.create(
                snapshot=snapshots[kind], kind=kind, line=line, id_hmac=person.id_hmac, id_masked=person.id_masked,
                name=person.name, date_from=start, date_to=end, org_code=code, org_name=name,
            )  # fmt: skip

    def application(self, klass, code, submitted, decided, lines, institution):
        app = SubsidyApplication.objects.create(
            code=code, applicant_kind="INSTITUTION", training_class=klass, institution=institution,
            status=SubsidyApplication.Status.NOTICE, submitted_at=moment(submitted), submitted_by=self.world.inst_a_operator,
            submitted_on=submitted, limit_workdays=8, workdays_used=6, due_date=decided, decided_at=moment(decided),
            decided_by=self.world.xincheng_reviewer,
        )  # fmt: skip
        made = []
        for enrollment, amount, status in lines:
            made.append(
                SubsidyLine.objects.create(
                    application=app,
                    enrollment=enrollment,
                    person=enrollment.person,
                    amount=amount,
                    status=status,
                )
            )
        return app, made

    def pay(self, app, lines, day, voucher):
        payment = Payment.objects.create(
            application=app, payee_kind="INSTITUTION_ACCOUNT", payee_name=app.institution.name,
            payee_account="0602", voucher_no=voucher, paid_on=day, amount=sum(line.amount for line in lines),
            outcome="PAID", recorded_by=self.finance,
        )  # fmt: skip
        payment.lines.set(lines)

    def subsidies(self):
        app, (li_line, _liu_line) = self.application(
            self.xc, "BT2026-0001", D(2026, 4, 1), D(2026, 4, 10),
            [(self.li, Decimal("1500"), "PAID"), (self.liu, Decimal("1500"), "PAYABLE")], self.hongxiang,
        )  # fmt: skip
        self.pay(app, [li_line], D(2026, 4, 25), "PZ2026-0425-01")
        app, (gao_line, _han_line) = self.application(
            self.kd, "BT2026-0002", D(2026, 11, 2), D(2026, 11, 10),
            [(self.gao, Decimal("1000"), "PAID"), (self.han, Decimal("1000"), "NOTICE")], self.gangcheng,
        )  # fmt: skip
        self.pay(app, [gao_line], D(2026, 11, 20), "PZ2026-1120-01")


@pytest.fixture
def s(world, today):
    stats = Stats2026(world)
    stats_refresh(full=True, today=TODAY)
    return stats


def outcome(enrollment, months):
    return EmploymentOutcome.objects.filter(enrollment=enrollment, checkpoint=months).first()


def totals(user, **filters):
    return dashboard_for(user, Filters(year=2026, **filters)).totals


# --- employment outcomes and the institution's rate ------------------------------------------------


@pytest.mark.django_db
def test_only_trainees_who_sat_the_final_exam_in_a_completed_or_imported_class_are_followed_up(s):
    """第十条: only a trainee with 95% of the hours sits the exam; that is completing the training."""
    followed = set(EmploymentOutcome.objects.values_list("enrollment_id", flat=True))
    assert followed == {s.li.id, s.zhang.id, s.liu.id, s.chen.id, s.sun.id}
    # 王芳 did not sit the exam, 赵磊 left the roster, KD-1012's checkpoints are not reached yet
    assert outcome(s.wang, 3) is None and outcome(s.zhao, 3) is None and outcome(s.gao, 3) is None


@pytest.mark.django_db
def test_outcomes_at_three_and_six_months_with_their_evidence(s):
    li3 = outcome(s.li, 3)
    assert (li3.check_date, li3.status, li3.source) == (D(2026, 6, 20), "EMPLOYED", "social_insurance")
    assert (li3.employer_name, li3.employed_since) == ("呼和浩特市康馨养老服务中心", D(2026, 6, 1))
    assert outcome(s.li, 6).status == "UNKNOWN"  # insured in June only
    assert outcome(s.zhang, 3).status == "UNKNOWN"
    zhang6 = outcome(s.zhang, 6)  # the filing begins on the 6-month day itself
    assert (zhang6.status, zhang6.source, zhang6.employed_since) == (
        "EMPLOYED",
        "employment_filing",
        D(2026, 9, 20),
    )
    assert zhang6.employer_name == "包头市鹿城家政服务有限公司"  # named by the social-insurance registry
    assert outcome(s.liu, 3).status == "UNKNOWN"  # the filing ended the day before
    assert outcome(s.chen, 3).status == outcome(s.chen, 6).status == "EMPLOYED"


@pytest.mark.django_db
def test_employment_rate_for_institution_at_six_months_by_default(s, world):
    """第十七条; the supervision credit rating reads this number."""
    follow_up_record(
        enrollment=s.liu, actor=world.inst_a_operator, checkpoint=6, outcome="FURTHER_STUDY",
        method="PHONE", contacted_on=D(2026, 9, 22),
    )  # fmt: skip
    stats_refresh(today=TODAY)
    # 6 months: 张伟 employed, 刘洋 in further study, 李明 unknown → 1 ÷ (3 − 1)
    assert employment_rate_for_institution(s.hongxiang) == Decimal("0.5000")
    assert employment_rate_for_institution(s.hongxiang, 2026) == Decimal("0.5000")
    assert employment_rate_for_institution(s.hongxiang, 2026, checkpoint=3) == Decimal("0.3333")
    assert employment_rate_for_institution(s.hongxiang, 2025) is None
    assert employment_rate_for_institution(s.gangcheng) is None  # no checkpoint reached yet
    assert employment_rate_for_institution(s.qingcheng) == Decimal("0.5000")


@pytest.mark.django_db
def test_a_follow_up_changes_the_outcome_after_the_incremental_refresh(s, world):
    record = follow_up_record(
        enrollment=s.li, actor=world.xincheng_reviewer, checkpoint=6, outcome="SELF_EMPLOYED", method="PHONE",
        contacted_on=D(2026, 9, 25), employer_name="个体经营：社区养老上门服务", employed_since=D(2026, 7, 1),
    )  # fmt: skip
    assert outcome(s.li, 6).status == "UNKNOWN"  # not before the refresh
    result = stats_refresh(today=TODAY)
    assert not result.full and result.classes == 1
    li6 = outcome(s.li, 6)
    assert (li6.status, li6.source, li6.follow_up_id, li6.employer_name) == (
        "EMPLOYED",
        "follow_up",
        record.id,
        "个体经营：社区养老上门服务",
    )
    entry = AuditEntry.objects.get(action="reports.follow_up.recorded")
    assert entry.after["outcome"] == "SELF_EMPLOYED" and entry.organisation_id == world.inst_a.id


@pytest.mark.django_db
def test_a_second_follow_up_for_the_same_checkpoint_replaces_the_first_and_keeps_it_in_the_audit(s, world):
    kw = dict(
        enrollment=s.sun,
        actor=world.huimin_reviewer,
        checkpoint=3,
        method="PHONE",
        contacted_on=D(2026, 7, 20),
    )
    follow_up_record(outcome="UNREACHABLE", **kw)
    follow_up_record(outcome="EMPLOYED", employer_name="青城家政服务公司", **kw)
    assert FollowUp.objects.filter(enrollment=s.sun, checkpoint=3).count() == 1
    entries = AuditEntry.objects.filter(action="reports.follow_up.recorded").order_by("id")
    assert [e.after["outcome"] for e in entries] == ["UNREACHABLE", "EMPLOYED"]
    assert entries[1].before["outcome"] == "UNREACHABLE"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "changes", "message"),
    [
        ("wang", {}, "该学员未结业"),
        ("zhao", {}, "该学员未结业"),
        ("gao", {}, "尚未到期"),
        ("li", {"outcome": "EMPLOYED", "employer_name": ""}, "请填写就业单位或创业项目"),
        ("li", {"contacted_on": D(2026, 3, 1)}, "回访日期不能早于结业日期"),
        ("li", {"contacted_on": D(2026, 11, 28)}, "回访日期不能晚于今天"),
        ("li", {"checkpoint": 12}, "跟踪节点应为结业后3个月或6个月"),
    ],
)
def test_follow_up_refusals_say_why(s, world, who, changes, message):
    kw = dict(checkpoint=3, outcome="UNEMPLOYED", method="PHONE", contacted_on=D(2026, 11, 20)) | changes
    with pytest.raises(PeixunError, match=message):
        follow_up_record(enrollment=getattr(s, who), actor=world.region_admin, **kw)


@pytest.mark.django_db
def test_a_checkpoint_reached_by_time_alone_is_picked_up_by_the_next_days_refresh(world, monkeypatch):
    s = Stats2026(world)
    stats_refresh(full=True, today=D(2026, 7, 16))  # the day before 孙丽's 3-month day (2026-07-17)
    assert outcome(s.sun, 3) is None
    result = stats_refresh(today=D(2026, 7, 17))
    assert not result.full and s.hm.id in set(
        EmploymentOutcome.objects.values_list("training_class_id", flat=True)
    )
    assert outcome(s.sun, 3).status == "UNKNOWN" and outcome(s.sun, 6) is None


@pytest.mark.django_db
def test_the_incremental_refresh_agrees_with_a_full_one(s, world):
    follow_up_record(
        enrollment=s.sun, actor=world.huimin_reviewer, checkpoint=6, outcome="EMPLOYED", method="VISIT",
        contacted_on=D(2026, 10, 20), employer_name="青城家政服务公司",
    )  # fmt: skip
    stats_refresh(today=TODAY)
    incremental = _snapshot()
    stats_refresh(full=True, today=TODAY)
    assert _snapshot() == incremental
    # the area table is exactly the class table summed
    before = _snapshot()
    rebuild_area_facts()
    assert _snapshot() == before


def _snapshot():
    from peixun.reports.models import AreaTotalFact, InstitutionYearFact

    fields = (
        "area_id",
        "occupation_code",
        "training_type",
        "category",
        "year",
        "month",
        *ClassMonthFact.MEASURES,
    )
    tables = [
        sorted(tuple(str(v) for v in row) for row in model.objects.values_list(*fields))
        for model in (AreaMonthFact, AreaTotalFact, InstitutionYearFact)
    ]
    return [
        *tables,
        sorted(InstitutionYearFact.objects.values_list("institution_id", "occupation_code", "year")),
    ]


@pytest.mark.django_db
def test_an_audited_subsidy_step_refreshes_its_class(s, world):
    from django.db import transaction

    from peixun.core.audit import audit_record

    app = SubsidyApplication.objects.get(code="BT2026-0002")
    SubsidyLine.objects.filter(application=app, status="NOTICE").update(status="REFUSED")
    with transaction.atomic():
        audit_record(actor=world.region_admin, action="subsidy.line.refused", obj=app)
    result = stats_refresh(today=TODAY)
    assert result.classes == 1
    assert totals(world.region_admin)["subsidy_approved_amount"] == Decimal("4000")  # 3000 + 1000


@pytest.mark.django_db
def test_a_new_employment_registry_makes_the_next_refresh_a_full_one(s, world):
    from django.db import transaction

    from peixun.core.audit import audit_record

    snapshot = RegistrySnapshot.objects.filter(kind="social_insurance").first()
    with transaction.atomic():
        audit_record(actor=None, action="registry.imported", obj=snapshot, after={"kind": "social_insurance"})
    assert stats_refresh(today=TODAY).full
    with transaction.atomic():
        audit_record(actor=None, action="registry.imported", obj=snapshot, after={"kind": "death"})
    assert not stats_refresh(today=TODAY).full


# --- the numbers of the dashboards, and who sees which -----------------------------------------------


@pytest.mark.django_db
def test_the_region_sees_every_number_attributed_to_its_month(s, world):
    t = totals(world.region_admin)
    # trainees at the start month: XC-0302 4, HM-0406 2, KD-1012 2, XC-1116 1 (not the draft, not 赵磊)
    assert t["trainees"] == 9 and t["classes"] == 4
    assert (t["ended"], t["completed"], t["certified"]) == (8, 7, 6)
    assert (t["emp3_due"], t["emp3_employed"], t["emp6_due"], t["emp6_employed"]) == (5, 2, 5, 2)
    assert (t["subsidy_applied"], t["subsidy_applied_amount"]) == (4, Decimal("5000"))
    assert (t["subsidy_approved"], t["subsidy_paid"], t["subsidy_paid_amount"]) == (4, 2, Decimal("2500"))
    assert (t["opening_decided"], t["opening_on_time"], t["completion_decided"], t["completion_on_time"]) == (
        1,
        1,
        1,
        0,
    )
    assert (t["subsidy_decided"], t["subsidy_on_time"]) == (2, 2)
    assert t.completion_rate == Decimal("87.5") and t.certificate_rate == Decimal("85.7")
    by_month = {f.month: f for f in AreaMonthFact.objects.filter(category="RURAL_MIGRANT")}
    assert by_month[3].trainees == 2 and by_month[11].trainees == 1 and by_month[4].subsidy_paid == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("user", "trainees", "completed", "paid", "findings"),
    [
        ("region_admin", 9, 7, Decimal("2500"), 2),
        ("hohhot_admin", 7, 5, Decimal("1500"), 2),
        ("baotou_admin", 2, 2, Decimal("1000"), 0),
        ("xincheng_reviewer", 5, 3, Decimal("1500"), 1),
        ("huimin_reviewer", 2, 2, Decimal("0"), 1),
        ("inst_a_operator", 5, 3, Decimal("1500"), 1),
        ("inst_b_operator", 2, 2, Decimal("0"), 1),
        ("inspector", 7, 5, Decimal("1500"), 2),
    ],
)
def test_every_number_of_the_dashboard_is_scoped_to_its_reader(
    s, world, user, trainees, completed, paid, findings
):
    """A county never sees another county's figures; an institution only its own."""
    d = dashboard_for(getattr(world, user), Filters(year=2026))
    assert (d.totals["trainees"], d.totals["completed"], d.totals["subsidy_paid_amount"]) == (
        trainees,
        completed,
        paid,
    )
    assert d.chart("findings").total[-1] == findings
    for key in ("category", "area"):
        chart = d.chart(key)
        if chart is not None:  # an institution's page has no area chart
            assert sum(r[1] for r in chart.rows) == trainees, key


@pytest.mark.django_db
def test_a_county_cannot_widen_its_view_by_the_area_or_institution_filter(s, world):
    reviewer = world.xincheng_reviewer
    level = resolve_level(reviewer, Filters(year=2026, area="150103"))
    assert level.area.code == "150102"
    assert totals(reviewer, area="150103")["trainees"] == 5
    assert totals(reviewer, institution=s.qingcheng.id)["trainees"] == 5
    assert totals(world.inst_a_operator, institution=s.qingcheng.id)["trainees"] == 5
    # the region narrows freely: a city, a county, an institution
    assert totals(world.region_admin, area="150100")["trainees"] == 7
    assert totals(world.region_admin, area="150103")["trainees"] == 2
    assert totals(world.region_admin, institution=s.gangcheng.id)["trainees"] == 2


@pytest.mark.django_db
def test_filters_by_occupation_and_training_type(s, world):
    assert totals(world.region_admin, occupation=ELDER_CARE)["trainees"] == 5
    assert totals(world.region_admin, training_type="UPGRADE")["trainees"] == 2
    assert totals(world.region_admin, training_type="UPGRADE", occupation=ELDER_CARE)["trainees"] == 0


@pytest.mark.django_db
def test_the_region_view_shows_the_fourteen_city_level_areas_side_by_side(s, world):
    d = dashboard_for(world.region_admin, Filters(year=2026))
    area = d.chart("area")
    names = [r[0] for r in area.rows]
    assert len(names) == 14 and "满洲里市" in names and "二连浩特市" in names
    assert dict((r[0], r[1]) for r in area.rows)["呼和浩特市"] == 7
    city = dashboard_for(world.hohhot_admin, Filters(year=2026)).chart("area")
    assert {r[0]: r[1] for r in city.rows}["新城区"] == 5 and "包头市" not in [r[0] for r in city.rows]
    county = dashboard_for(world.xincheng_reviewer, Filters(year=2026)).chart("area")
    assert [r[0] for r in county.rows] == ["呼和浩特市鸿翔职业技能培训学校"]


@pytest.mark.django_db
def test_each_chart_total_is_the_sum_of_its_rows(s, world):
    for user in (world.region_admin, world.hohhot_admin, world.inst_a_operator):
        for chart in dashboard_for(user, Filters(year=2026)).charts:
            if not chart.total:
                continue
            for i, column in enumerate(chart.columns):
                if column.kind in ("int", "money"):
                    assert chart.total[i] == sum(r[i] or 0 for r in chart.rows), (chart.key, column.label)


@pytest.mark.django_db
def test_the_dashboard_reads_a_bounded_number_of_queries(s, world, django_assert_max_num_queries, client):
    client.force_login(world.region_admin)
    client.get(reverse("reports:dashboard"))  # catches up and warms the occupation list
    with django_assert_max_num_queries(40):
        assert client.get(reverse("reports:dashboard")).status_code == 200


# --- pages ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_pages_answer_each_role_and_hide_from_those_without_statistics(s, world, client):
    pages = ["reports:dashboard", "reports:employment"]
    for user in (world.region_admin, world.hohhot_admin, world.xincheng_reviewer, world.inst_a_operator):
        client.force_login(user)
        for name in pages:
            assert client.get(reverse(name)).status_code == 200, (user, name)
    client.force_login(world.trainee)
    for name in [*pages, "reports:cities", "reports:needs", "reports:standard"]:
        assert client.get(reverse(name)).status_code == 404
    client.force_login(world.hohhot_admin)
    assert client.get(reverse("reports:cities")).status_code == 404  # the side-by-side view is the region's
    client.force_login(world.region_admin)
    page = client.get(reverse("reports:cities")).content.decode()
    assert "二连浩特市" in page and "各盟市培训规模" in page
    assert "<script>" not in page  # CSP: chart data only as application/json blocks


@pytest.mark.django_db
def test_a_foreign_class_or_trainee_is_not_found_for_follow_up(s, world, client):
    client.force_login(world.huimin_reviewer)
    assert client.get(reverse("reports:class_employment", args=[s.xc.pk])).status_code == 404
    assert client.get(reverse("reports:follow_up", args=[s.li.pk, 3])).status_code == 404
    assert client.get(reverse("reports:class_employment", args=[s.hm.pk])).status_code == 200


@pytest.mark.django_db
def test_an_institution_records_a_follow_up_through_the_page(s, world, client):
    client.force_login(world.inst_a_operator)
    url = reverse("reports:follow_up", args=[s.li.pk, 6])
    refused = client.post(url, {"outcome": "EMPLOYED", "method": "PHONE", "contacted_on": "2026-09-25"})
    assert "请填写就业单位或创业项目" in refused.content.decode()
    response = client.post(
        url,
        {"outcome": "EMPLOYED", "method": "PHONE", "contacted_on": "2026-09-25", "employer_name": "康馨养老"},
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()  # the class page catches up first
    assert "康馨养老" in page and outcome(s.li, 6).status == "EMPLOYED"
    listing = client.get(reverse("reports:employment")).content.decode()
    assert s.zhang.person.name in listing  # 张伟 at 3 months is still to be called


@pytest.mark.django_db
def test_the_follow_up_list_is_scoped(s, world):
    from peixun.reports.employment_stats import follow_up_list

    def names(user):
        level = resolve_level(user, Filters(year=2026))
        return {o.enrollment.person.name for o in follow_up_list(user, level, Filters(year=2026))}

    assert names(world.xincheng_reviewer) == {"李明", "张伟", "刘洋"}
    assert names(world.huimin_reviewer) == {"孙丽"}
    assert names(world.baotou_admin) == set()


# --- exports and reports ----------------------------------------------------------------------------


def rows_of(content: bytes, sheet: int = 0) -> list[list]:
    ws = load_workbook(io.BytesIO(content)).worksheets[sheet]
    return [list(r) for r in ws.iter_rows(values_only=True)]


@pytest.mark.django_db
def test_a_chart_exports_its_table_to_excel_with_the_total(s, world, client):
    client.force_login(world.hohhot_admin)
    response = client.get(reverse("reports:export", args=["dashboard", "area"]), {"year": 2026})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = rows_of(response.content)
    assert rows[0][:3] == ["旗县区", "培训人数", "结业人数"]
    body, total = rows[1:-1], rows[-1]
    assert total[0] == "合计" and total[1] == sum(r[1] for r in body) == 7
    assert "包头市" not in [r[0] for r in body]
    assert client.get(reverse("reports:export", args=["dashboard", "nope"])).status_code == 404
    assert client.get(reverse("reports:export", args=["cities", "cities_overview"])).status_code == 404


def _check_totals(report):
    for sheet in report.sheets:
        for i, (label, kind) in enumerate(sheet.columns):
            if kind in ("int", "money") and label != "序号":
                assert sheet.total[i] == sum(r[i] or 0 for r in sheet.rows), (sheet.title, label)


@pytest.mark.django_db
def test_statistics_reports_total_the_sum_of_their_rows_and_match_the_dashboard(s, world):
    annual = annual_statistics(world.region_admin, year=2026)
    _check_totals(annual)
    by_type, by_area, by_month = annual.sheets
    assert len(by_type.rows) == 4 * 7 and len(by_area.rows) == 14 and len(by_month.rows) == 12
    t = totals(world.region_admin)
    for sheet in annual.sheets:
        first = 2 if sheet is by_type else 1
        assert sheet.total[first : first + 3] == [t["trainees"], t["completed"], t["certified"]]
        assert sheet.total[-1] == t["subsidy_paid_amount"]
    march = monthly_statistics(world.xincheng_reviewer, year=2026, month=3)
    _check_totals(march)
    assert march.sheets[0].total[2] == 4 and "新城区" in march.title


@pytest.mark.django_db
def test_the_payment_ledger_lists_each_paid_line_of_the_readers_scope(s, world):
    region = payment_ledger(world.region_admin, year=2026)
    _check_totals(region)
    assert [r[2] for r in region.sheets[0].rows] == ["PZ2026-0425-01", "PZ2026-1120-01"]
    assert region.sheets[0].total[-1] == Decimal("2500")
    baotou = payment_ledger(world.baotou_admin, year=2026)
    assert [(r[4], r[5], r[-1]) for r in baotou.sheets[0].rows] == [("包头市", "昆都仑区", Decimal("1000"))]
    assert payment_ledger(world.region_admin, year=2026, area_code="150200").sheets[0].total[-1] == Decimal(
        "1000"
    )
    assert all("*" in r[11] for r in region.sheets[0].rows)  # ID numbers masked


@pytest.mark.django_db
def test_the_skill_upgrade_account_holds_only_upgrade_training(s, world):
    account = upgrade_account(world.region_admin, year=2026)
    _check_totals(account)
    lines, summary = account.sheets
    assert [r[1] for r in lines.rows] == ["BT2026-0002", "BT2026-0002"]
    assert lines.total[-5:-2] == [Decimal("2000"), Decimal("2000"), Decimal("1000")]
    assert summary.rows == [["包头市", 2, Decimal("2000"), Decimal("2000"), Decimal("1000")]]
    assert upgrade_account(world.hohhot_admin, year=2026).sheets[0].rows == []


@pytest.mark.django_db
def test_a_report_runs_in_the_background_and_only_its_owner_downloads_it(
    s, world, client, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(world.region_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:standard"), {"report": "ledger", "year": 2026})
    assert response.status_code == 302
    job = client.get(response["Location"])
    assert "补贴拨付台账" in job.content.decode()
    public_id = response["Location"].rstrip("/").split("/")[-1]
    download = client.get(reverse("reports:job_download", args=[public_id]))
    rows = rows_of(download.content)
    assert rows[1][0] == "序号" and next(r for r in rows if r[1] == "合计")[13] == 2500
    assert PersonAccessLog.objects.filter(viewer=world.region_admin, kind="EXPORT").exists()
    client.force_login(world.hohhot_admin)
    assert client.get(reverse("reports:job_download", args=[public_id])).status_code == 404


@pytest.mark.django_db
def test_a_monthly_report_needs_its_month_and_institutions_cannot_generate(s, world, client):
    client.force_login(world.hohhot_admin)
    page = client.post(reverse("reports:standard"), {"report": "monthly", "year": 2026})
    assert "统计月报请选择月份" in page.content.decode()
    client.force_login(world.inst_a_operator)
    assert client.get(reverse("reports:standard")).status_code == 404


# --- the training-needs match (第五条) ---------------------------------------------------------------


@pytest.mark.django_db
def test_demand_set_against_classes_run_shows_where_it_was_not_met(s, world):
    from peixun.catalog.models import Occupation
    from peixun.reports.needs import needs_match

    for area_code, code, kind, n in (
        ("150102", ELDER_CARE, "ENTERPRISE", 10),
        ("150103", ELDER_CARE, "WORKER", 4),
        ("150203", WELDER, "ENTERPRISE", 2),
    ):
        DemandReport.objects.create(
            kind=kind, channel="BUREAU", area=Area.objects.get(code=area_code), occupation=Occupation.objects.get(code=code),
            headcount=n, contact_name="联系人", contact_phone="0471-1234567", survey_year=2026,
        )  # fmt: skip
    _level, rows = needs_match(world.hohhot_admin, Filters(year=2026))
    found = {(r.area.name, r.occupation_code): (r.demand, r.trainees, r.gap, r.status) for r in rows}
    assert found[("新城区", ELDER_CARE)] == (10, 5, 5, "partial")
    assert found[("回民区", ELDER_CARE)] == (4, 0, 4, "unmet")
    assert found[("回民区", HOUSEKEEPING)] == (0, 2, 0, "no_demand")
    assert not any(r.area.name == "昆都仑区" for r in rows)
    _level, region = needs_match(world.region_admin, Filters(year=2026))
    by_city = {(r.area.name, r.occupation_code): r for r in region}
    assert by_city[("呼和浩特市", ELDER_CARE)].gap == 14 - 5
    assert by_city[("包头市", WELDER)].status == "met"
    assert rows[0].status == "partial"  # the largest gap first


@pytest.mark.django_db
def test_seed_reports_adds_follow_ups_once(s, world):
    from peixun.reports.demo import seed_reports

    first = seed_reports()
    assert first["follow_ups"] > 0
    assert seed_reports()["follow_ups"] == 0
    assert Certificate.objects.count() == 0  # touches nothing but follow-ups and statistics


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_a_page_does_not_wait_behind_a_running_refresh(world, today):
    import threading
    import time

    from django.db import transaction

    from peixun.core.audit import audit_record
    from peixun.reports.models import StatsState

    stats_refresh(full=True, today=TODAY)
    holding, release = threading.Event(), threading.Event()

    def nightly_refresh_in_progress():
        with transaction.atomic():
            StatsState.objects.select_for_update().get(singleton=1)
            holding.set()
            release.wait(10)
        connection.close()

    worker = threading.Thread(target=nightly_refresh_in_progress)
    worker.start()
    try:
        assert holding.wait(5)
        with transaction.atomic():  # something changed: the page would catch up
            audit_record(
                actor=None, action="class.updated", object_type="training.TrainingClass", object_id="1"
            )
        started = time.monotonic()
        result = stats_refresh(inline=True, today=TODAY)
        assert result.deferred and time.monotonic() - started < 2
    finally:
        release.set()
        worker.join()
