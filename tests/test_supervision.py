"""监督检查 (第二十至二十五条): 双随机一公开 draws, inspections with the 第二十一条 checklist and phone
checks, violations and the sanctions ladder of 第二十二条, recovery of subsidies paid, integrity records
and the credit rating, the annual inspection (刷课 → 不合格, 第二十条), clue transfers and joint
enforcement (第二十五条), the training of the bureaus' own staff (第二十四条), and the scope of every page.

呼和浩特 (张海燕, city admin) organises the draws. On its inspector roster: 苏日娜 (city bureau),
韩磊 (新城区), 白雪 (回民区) and the invited expert 郝建军, a teacher of 青城家政职业培训学校. 鸿翔
(新城区, listed since 2026-01-01) and 青城 (回民区) are in the directory. 包头's admin 刘志强 and
青城's operator 何春雨 must never see 呼和浩特's or 鸿翔's records.
"""

import datetime as dt
import hashlib
import hmac
import io
import threading
import zipfile
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import close_old_connections, connection
from django.test import Client
from django.urls import reverse

from peixun.accounts.roles import Role
from peixun.accounts.services import user_create
from peixun.checks.models import Finding
from peixun.core.audit import verify_chain
from peixun.core.errors import PeixunError, PermissionDeniedError, TransitionError
from peixun.core.models import Area, AuditEntry
from peixun.core.uscc import uscc_complete as uscc
from peixun.institutions.models import Institution
from peixun.institutions.services import directory_change, institution_register
from peixun.subsidies.models import SubsidyApplication, SubsidyLine
from peixun.supervision import draw as algo
from peixun.supervision import services as sv
from peixun.supervision.models import (
    AnnualInspection,
    CheckItem,
    ClueTransfer,
    Draw,
    Inspection,
    InspectionItem,
    Inspector,
    IntegrityRecord,
    PhoneCheck,
    Recovery,
    Sanction,
    SanctionKind,
    Violation,
    ViolationType,
)
from peixun.supervision.rating import CreditFacts, credit_rating
from peixun.supervision.selectors import draw_revealed, public_inspections
from peixun.training import services as training
from peixun.training.models import ClassStatus, Enrollment, TrainingClass
from peixun.web.pending import pending_for
from tests.conftest import PASSWORD, new_id_number
from tests.factories import Clock, Lifecycle

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 2)  # a Monday
DUE = dt.date(2026, 11, 30)
ALL_OK = {c: (InspectionItem.Result.OK, "") for c in CheckItem.values}

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks and concurrent transactions need PostgreSQL"
)


class Sup:
    def __init__(self, world, clock):
        self.world, self.clock = world, clock
        self.life = Lifecycle(world)
        self.hongxiang = self.life.institution
        self.qingcheng = listed("青城家政职业培训学校", "150103", "52150103MJY000052")
        self.admin = world.hohhot_admin
        self.suna = world.inspector  # 苏日娜, 呼和浩特市人社局
        self.han = user_create(
            username="han_xincheng",
            password=PASSWORD,
            role=Role.INSPECTOR,
            display_name="韩磊",
            organisation=world.xincheng,
            actor=None,
        )
        self.bai = user_create(
            username="bai_huimin",
            password=PASSWORD,
            role=Role.INSPECTOR,
            display_name="白雪",
            organisation=world.huimin,
            actor=None,
        )
        sv.inspector_roster_sync(area=Area.objects.get(code="150100"))
        self.expert = sv.expert_register(
            actor=self.admin, name="郝建军", organisation=self.qingcheng.organisation, speciality="家政服务"
        )

    def inspector(self, user) -> Inspector:
        return Inspector.objects.get(user=user)

    def draw(self, **kw) -> Draw:
        kw.setdefault("title", "2026年第四季度培训机构双随机抽查")
        kw.setdefault("target_kind", Draw.TargetKind.INSTITUTION)
        kw.setdefault("inspection_due", DUE)
        return sv.draw_create(actor=kw.pop("actor", self.admin), **kw)

    def drawn_inspection(self, institution=None) -> Inspection:
        """A 双随机 inspection of 鸿翔 (the only target when the pool holds just it)."""
        self.qingcheng_out()
        drawn = sv.draw_execute(draw=self.draw(), actor=self.admin)
        inspection = Inspection.objects.get(draw_target__draw=drawn)
        assert inspection.institution == (institution or self.hongxiang)
        return inspection

    def qingcheng_out(self):
        if self.qingcheng.status == Institution.Status.LISTED:
            directory_change(
                institution=self.qingcheng,
                transition="suspend",
                actor=self.admin,
                effective_date=TODAY,
                reason="测试：只留鸿翔",
            )
            self.qingcheng.refresh_from_db()

    def assigned_user(self, inspection):
        return inspection.inspectors.exclude(user=None).first().user

    def record(self, inspection, *, outcome=Inspection.Outcome.PASS, items=None, actor=None, **kw):
        kw.setdefault("summary", "现场检查教学秩序正常")
        kw.setdefault("inspected_on", TODAY)
        if outcome == Inspection.Outcome.RECTIFY:
            kw.setdefault("follow_up", "补齐实训安全警示标识")
            kw.setdefault("follow_up_due", TODAY + dt.timedelta(days=14))
        return sv.inspection_record(
            inspection=inspection,
            actor=actor or self.assigned_user(inspection),
            items=items or ALL_OK,
            outcome=outcome,
            **kw,
        )

    def violation(self, type=ViolationType.FALSE_ATTENDANCE, **kw) -> Violation:
        return sv.violation_record(
            actor=kw.pop("actor", self.admin),
            institution=kw.pop("institution", self.hongxiang),
            type=type,
            description=kw.pop("description", "2026年10月班次多名学员未到课，考勤由他人代签"),
            found_on=kw.pop("found_on", TODAY),
            **kw,
        )

    def sanction(self, violation, kind, **kw) -> Sanction:
        kw.setdefault("decided_on", TODAY)
        kw.setdefault("document_no", f"呼人社监字〔2026〕{Sanction.objects.count() + 1}号")
        kw.setdefault("content", f"{SanctionKind(kind).label}决定")
        if kind == SanctionKind.RECTIFY:
            kw.setdefault("effective_to", TODAY + dt.timedelta(days=30))
        return sv.sanction_decide(violation=violation, actor=kw.pop("actor", self.admin), kind=kind, **kw)

    def paid_lines(self, n=2, amount=Decimal("1500.00")) -> list[SubsidyLine]:
        """Paid subsidy lines of a completed 鸿翔 class (the subsidy flow itself is tested elsewhere)."""
        klass = TrainingClass.objects.create(
            code=f"HX2026-{SubsidyApplication.objects.count() + 1:04d}",
            institution=self.hongxiang,
            area=self.hongxiang.area,
            occupation_code="4-10-01-05",
            occupation_name="养老护理员",
            level="5",
            training_type="EMPLOYMENT",
            start_date=dt.date(2026, 8, 3),
            end_date=dt.date(2026, 8, 21),
            total_hours=Decimal("96"),
            status=ClassStatus.COMPLETED,
        )
        app = SubsidyApplication.objects.create(
            code=f"BT{klass.code}",
            applicant_kind=SubsidyApplication.Applicant.INSTITUTION,
            training_class=klass,
            institution=self.hongxiang,
            status=SubsidyApplication.Status.CLOSED,
            submitted_at=dt.datetime(2026, 9, 1, tzinfo=dt.UTC),
            submitted_by=self.life.operator,
            submitted_on=dt.date(2026, 9, 1),
            limit_workdays=8,
        )
        people = [self.world.li_ming, self.world.chen_jing][:n]
        lines = []
        for person in people:
            e = Enrollment.objects.create(training_class=klass, person=person, category="RURAL_MIGRANT")
            lines.append(
                SubsidyLine.objects.create(
                    application=app,
                    enrollment=e,
                    person=person,
                    amount=amount,
                    status=SubsidyLine.Status.PAID,
                )
            )
        return lines


def listed(name, area_code, body, on=dt.date(2026, 1, 5)) -> Institution:
    institution = institution_register(
        code=uscc(body), name=name, type="PRIVATE_SCHOOL", area=Area.objects.get(code=area_code), actor=None
    )
    directory_change(
        institution=institution,
        transition="list",
        actor=None,
        effective_date=on,
        reason="导入",
        from_import=True,
    )
    institution.refresh_from_db()
    return institution


@pytest.fixture
def clock(monkeypatch):
    c = Clock(monkeypatch)
    c.travel(TODAY)
    return c


@pytest.fixture
def sup(world, clock):
    return Sup(world, clock)


@pytest.fixture
def occupations(reference_data):
    """Transactional tests flush the database, the occupation list of the data migration with it."""
    from peixun.catalog.models import Occupation
    from peixun.catalog.reference import load_occupations

    load_occupations(Occupation)


def pool_of(targets, inspectors, conflicts=(), share=Decimal("0.05"), k=2, **kw):
    return algo.build_pool(
        code="SJ1501002026001",
        area="150100",
        target_kind="INSTITUTION",
        sample_share=share,
        inspectors_per_target=k,
        stratify=kw.get("stratify", False),
        high_risk_threshold=kw.get("threshold"),
        high_risk_share=kw.get("high_share"),
        targets=targets,
        inspectors=inspectors,
        conflicts=list(conflicts),
    )


def targets(n, org_of=lambda i: f"O{1000 + i}", risk_of=lambda i: None, **kw):
    return [
        algo.Target(
            key=f"I{i}",
            name=f"机构{i}",
            organisation=org_of(i),
            area="150102",
            risk=risk_of(i),
            stratum=algo.stratum_of(
                risk_of(i), stratify=kw.get("stratify", False), threshold=kw.get("threshold")
            ),
        )
        for i in range(1, n + 1)
    ]


def people(n, org_of=lambda i: f"O{i}"):
    return [
        algo.PoolInspector(
            key=f"P{i}", name=f"检查员{i}", organisation=org_of(i), organisation_name="人社局", area="150100"
        )
        for i in range(1, n + 1)
    ]


SEED = "9f" * 32


# --- the draw as a pure function (第二十一条 双随机) --------------------------------------------------------


def test_the_same_published_pool_and_seed_give_the_same_result():
    """第二十一条 双随机、一公开: anyone recomputes the draw from the published pool text and seed."""
    pool = pool_of(targets(60), people(8))
    text = algo.canonical_pool(pool)
    first = algo.select(algo.parse_pool(text), SEED)
    second = algo.select(algo.parse_pool(text), SEED)
    assert first == second
    assert first.sha256 == second.sha256
    # the pool's order of entry does not matter: the canonical text sorts it
    shuffled = pool_of(list(reversed(targets(60))), list(reversed(people(8))))
    assert algo.canonical_pool(shuffled) == text
    assert algo.select(shuffled, SEED) == first


def test_a_different_seed_gives_a_different_draw():
    pool = pool_of(targets(60), people(8))
    assert algo.select(pool, SEED).as_json() != algo.select(pool, "0a" * 32).as_json()


def test_the_order_is_the_hmac_of_the_seed_and_the_target_key():
    """Documented in the guide: targets ranked by HMAC-SHA256(seed, "target|" + key)."""
    pool = pool_of(targets(40), people(4))
    result = algo.select(pool, SEED)
    expected = sorted(
        (hmac.new(SEED.encode(), f"target|I{i}".encode(), hashlib.sha256).hexdigest(), f"I{i}")
        for i in range(1, 41)
    )[:2]
    assert [t.key for t in result.targets] == [k for _s, k in expected]


@pytest.mark.parametrize(
    "count,share,expected",
    [
        (40, "0.05", 2),
        (41, "0.05", 3),
        (3, "0.05", 1),
        (20, "0.05", 1),
        (25, "0.10", 3),
        (0, "0.05", 0),
        (5, "1", 5),
    ],
)
def test_sample_size_is_the_share_rounded_up_at_least_one(count, share, expected):
    """抽查比例 default 5%: ceil(share × pool), at least one of a non-empty pool."""
    assert algo.sample_size(count, Decimal(share)) == expected


def test_each_target_gets_two_inspectors_and_the_work_is_spread():
    pool = pool_of(targets(100), people(6), share=Decimal("0.06"))
    result = algo.select(pool, SEED)
    assert len(result.targets) == 6
    assert all(len(t.inspectors) == 2 for t in result.targets)
    load = {}
    for t in result.targets:
        assert len({k for k, _s in t.inspectors}) == 2
        for k, _s in t.inspectors:
            load[k] = load.get(k, 0) + 1
    assert max(load.values()) - min(load.values()) <= 1


def test_an_inspector_of_the_targets_own_organisation_is_never_drawn_for_it():
    """回避: an expert who teaches at the institution does not inspect it."""
    # inspector P1 belongs to organisation O1001, the organisation of target I1
    pool = pool_of(targets(1), people(3, org_of=lambda i: "O1001" if i == 1 else f"O{i}"), share=Decimal("1"))
    for n in range(30):
        result = algo.select(pool, f"{n:064x}")
        assert "P1" not in {k for k, _s in result.targets[0].inspectors}


def test_an_inspector_with_a_declared_conflict_is_never_drawn_for_that_target():
    pool = pool_of(targets(2), people(3), conflicts=[("P2", "I1")], share=Decimal("1"))
    for n in range(30):
        result = algo.select(pool, f"{n:064x}")
        by_target = {t.key: {k for k, _s in t.inspectors} for t in result.targets}
        assert "P2" not in by_target["I1"]
        assert len(by_target["I1"]) == 2


def test_a_pool_without_two_eligible_inspectors_for_some_target_is_refused():
    pool = pool_of(targets(2), people(2), conflicts=[("P2", "I2")], share=Decimal("1"))
    with pytest.raises(algo.DrawImpossible, match="机构2"):
        algo.check_feasible(pool)


def test_stratified_draw_takes_the_high_risk_share_from_the_high_risk_stratum():
    """按风险分层: targets at or over the threshold (findings per 100 trainees) are drawn at their share."""
    risky = {i for i in range(1, 11)}
    pool = pool_of(
        targets(
            50,
            risk_of=lambda i: Decimal("25") if i in risky else Decimal("1"),
            stratify=True,
            threshold=Decimal("10"),
        ),
        people(6),
        stratify=True,
        threshold=Decimal("10"),
        high_share=Decimal("0.3"),
    )
    result = algo.select(pool, SEED)
    high = [t for t in result.targets if t.stratum == algo.HIGH]
    normal = [t for t in result.targets if t.stratum == algo.NORMAL]
    assert len(high) == 3 and all(int(t.key[1:]) in risky for t in high)
    assert len(normal) == 2 and all(int(t.key[1:]) not in risky for t in normal)


# --- the draw through the services ----------------------------------------------------------------------


def test_a_draw_publishes_its_seed_hash_and_pool_before_and_the_seed_after(sup):
    """第二十一条 一公开: the commitment is public before the draw, the seed with the results."""
    draw = sup.draw()
    assert draw.status == Draw.Status.COMMITTED
    assert draw.seed_sha256 == hashlib.sha256(draw.seed.encode()).hexdigest()
    assert draw.pool_sha256 == hashlib.sha256(draw.pool_text.encode()).hexdigest()
    assert draw.pool_targets == 2 and draw.pool_inspectors == 4
    committed = AuditEntry.objects.get(action="supervision.draw.committed", object_id=str(draw.pk))
    assert committed.after["seed_sha256"] == draw.seed_sha256
    assert "seed" not in committed.after
    page = Client().get(reverse("supervision:public_draw", args=[draw.pk]))
    assert page.status_code == 200
    assert draw.seed_sha256 in page.content.decode()
    assert draw.seed not in page.content.decode()


def test_executing_recomputes_from_the_stored_pool_and_is_audited(sup):
    draw = sv.draw_execute(draw=sup.draw(), actor=sup.admin)
    assert draw.status == Draw.Status.DRAWN
    expected = algo.select(algo.parse_pool(draw.pool_text), draw.seed)
    stored = [
        (t.key, sorted(a.inspector.key for a in t.assignments.all())) for t in draw.targets.order_by("rank")
    ]
    assert stored == [(t.key, sorted(k for k, _s in t.inspectors)) for t in expected.targets]
    assert draw.result_sha256 == expected.sha256
    executed = AuditEntry.objects.get(action="supervision.draw.executed", object_id=str(draw.pk))
    assert executed.after["seed"] == draw.seed and executed.after["result_sha256"] == expected.sha256
    assert verify_chain() is None


def test_a_draw_cannot_be_run_twice(sup):
    """Draws cannot be re-run quietly: the second execution is refused."""
    draw = sv.draw_execute(draw=sup.draw(), actor=sup.admin)
    with pytest.raises(TransitionError, match="不能再次抽取"):
        sv.draw_execute(draw=draw, actor=sup.admin)
    assert Inspection.objects.filter(draw_target__draw=draw).count() == draw.targets.count()


def test_a_cancelled_draw_cannot_be_executed_and_stays_listed_with_its_reason(sup):
    draw = sup.draw()
    with pytest.raises(PeixunError, match="作废原因"):
        sv.draw_cancel(draw=draw, actor=sup.admin, reason=" ")
    sv.draw_cancel(draw=draw, actor=sup.admin, reason="抽查范围设置有误")
    with pytest.raises(TransitionError):
        sv.draw_execute(draw=draw, actor=sup.admin)
    page = Client().get(reverse("supervision:public_draws")).content.decode()
    assert draw.code in page and "抽查范围设置有误" in page


def test_draw_numbers_have_no_gaps(sup):
    first = sup.draw()
    second = sup.draw()
    assert int(second.code[-3:]) == int(first.code[-3:]) + 1


def test_the_default_share_is_five_percent_of_the_pool(sup):
    """Sample size: 40 listed institutions in 呼和浩特 → 2 drawn."""
    for n in range(38):
        listed(f"测试培训学校{n:02d}", "150102", f"52150102MJY2{n:05d}")
    draw = sup.draw()
    assert draw.sample_share == Decimal("0.05") and draw.pool_targets == 40
    sv.draw_execute(draw=draw, actor=sup.admin)
    assert draw.targets.count() == 2
    assert all(t.assignments.count() == 2 for t in draw.targets.all())


def test_the_expert_from_qingcheng_is_never_sent_to_qingcheng(sup):
    """回避: 郝建军 teaches at 青城; with a share of 100% both institutions are drawn."""
    draw = sv.draw_execute(draw=sup.draw(sample_share=Decimal("1")), actor=sup.admin)
    target = draw.targets.get(institution=sup.qingcheng)
    assert sup.expert not in [a.inspector for a in target.assignments.all()]
    assert f'"{sup.expert.key}"' in draw.pool_text


def test_a_declared_conflict_keeps_the_inspector_away(sup):
    suna = sup.inspector(sup.suna)
    sv.conflict_declare(actor=sup.suna, inspector=suna, institution=sup.hongxiang, reason="配偶在该校任教")
    draw = sv.draw_execute(draw=sup.draw(sample_share=Decimal("1")), actor=sup.admin)
    target = draw.targets.get(institution=sup.hongxiang)
    assert suna not in [a.inspector for a in target.assignments.all()]
    assert [suna.key, "I" + str(sup.hongxiang.pk)] in algo.parse_pool(draw.pool_text)["conflicts"]


def test_an_inspector_declares_only_their_own_conflicts(sup):
    with pytest.raises(PermissionDeniedError):
        sv.conflict_declare(
            actor=sup.han, inspector=sup.inspector(sup.bai), institution=sup.hongxiang, reason="代为申报"
        )


def test_a_draw_without_enough_inspectors_is_refused_when_created(sup):
    for user in (sup.han, sup.bai):
        sv.inspector_set_active(actor=sup.admin, inspector=sup.inspector(user), active=False, reason="借调")
    with pytest.raises(PeixunError, match="少于2名"):
        sup.draw()
    assert not Draw.objects.exists()


def test_fewer_than_two_inspectors_per_target_is_refused(sup):
    with pytest.raises(PeixunError, match="至少派2名"):
        sup.draw(inspectors_per_target=1)


def test_only_city_and_region_admins_organise_draws(sup):
    for user in (sup.suna, sup.world.xincheng_reviewer, sup.life.operator):
        with pytest.raises(PermissionDeniedError):
            sup.draw(actor=user)


def test_another_city_cannot_execute_hohhots_draw(sup):
    draw = sup.draw()
    with pytest.raises(PermissionDeniedError):
        sv.draw_execute(draw=draw, actor=sup.world.baotou_admin)


def test_a_class_draw_draws_classes_in_training(sup, clock):
    klass = sup.life.draft(start=dt.date(2026, 11, 23))
    training.opening_submit(training_class=klass, actor=sup.life.operator)
    training.opening_approve(training_class=klass, actor=sup.world.xincheng_reviewer)
    draw = sv.draw_execute(draw=sup.draw(target_kind=Draw.TargetKind.CLASS), actor=sup.admin)
    inspection = Inspection.objects.get(draw_target__draw=draw)
    assert inspection.training_class == klass and inspection.institution == sup.hongxiang


def test_an_inspector_who_cannot_go_is_replaced_by_the_next_in_the_hmac_order(sup):
    inspection = sup.drawn_inspection()
    target = inspection.draw_target
    leaving = target.assignments.first()
    pool = algo.parse_pool(target.draw.pool_text)
    used = {a.inspector.key for a in target.assignments.all()}
    expected_key, _s = algo.replacement(pool, target.draw.seed, target.key, used)
    new = sv.draw_replace_inspector(assignment=leaving, actor=sup.admin, reason="住院")
    assert new.inspector.key == expected_key
    assert (
        new.inspector in inspection.inspectors.all() and leaving.inspector not in inspection.inspectors.all()
    )


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_admins_executing_the_same_draw_at_once_draw_exactly_once(world, occupations, monkeypatch):
    """The draw row is locked: the second admin waits, then finds it drawn."""
    Clock(monkeypatch).travel(TODAY)
    sup = Sup(world, None)
    draw = sup.draw()
    region = world.region_admin
    outcomes = []
    barrier = threading.Barrier(2)

    def run(actor):
        close_old_connections()
        try:
            barrier.wait()
            sv.draw_execute(draw=Draw.objects.get(pk=draw.pk), actor=actor)
            outcomes.append("ok")
        except TransitionError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(a,)) for a in (sup.admin, region)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "refused"]
    assert Inspection.objects.filter(draw_target__draw=draw).count() == draw.targets.count()
    assert verify_chain() is None


# --- inspections (第二十一条) -------------------------------------------------------------------------------


def test_only_the_drawn_inspectors_record_and_every_checklist_item_is_answered(sup):
    """第二十一条: 报名资格、培训计划落实、授课师资资格、教学场地、设施设备、实训安全, each recorded."""
    inspection = sup.drawn_inspection()
    outsider = next(
        u for u in (sup.suna, sup.han, sup.bai) if not inspection.inspectors.filter(user=u).exists()
    )
    with pytest.raises(PermissionDeniedError, match="不是本次检查的检查人员"):
        sup.record(inspection, actor=outsider)
    partial = {c: r for c, r in ALL_OK.items() if c != CheckItem.SAFETY}
    with pytest.raises(PeixunError, match="实训安全"):
        sup.record(inspection, items=partial)
    sup.record(inspection)
    inspection.refresh_from_db()
    assert inspection.status == Inspection.Status.CLOSED and inspection.outcome == Inspection.Outcome.PASS
    assert inspection.items.count() == 6


def test_a_problem_item_needs_an_explanation_and_cannot_pass(sup):
    inspection = sup.drawn_inspection()
    items = {**ALL_OK, CheckItem.SAFETY: (InspectionItem.Result.PROBLEM, "")}
    with pytest.raises(PeixunError, match="须说明情况"):
        sup.record(inspection, items=items, outcome=Inspection.Outcome.RECTIFY)
    items[CheckItem.SAFETY] = (InspectionItem.Result.PROBLEM, "实训室无消防器材")
    with pytest.raises(PeixunError, match="不能为“未发现问题”"):
        sup.record(inspection, items=items)
    with pytest.raises(PeixunError, match="整改要求和整改期限"):
        sup.record(
            inspection, items=items, outcome=Inspection.Outcome.RECTIFY, follow_up="", follow_up_due=None
        )


def test_a_rectification_is_followed_up_and_closed_after_the_institutions_report(sup):
    inspection = sup.drawn_inspection()
    items = {**ALL_OK, CheckItem.SAFETY: (InspectionItem.Result.PROBLEM, "实训室无消防器材")}
    sup.record(inspection, items=items, outcome=Inspection.Outcome.RECTIFY)
    inspection.refresh_from_db()
    assert inspection.status == Inspection.Status.FOLLOW_UP
    operator = sup.life.operator
    assert any(i.category == "整改" for i in pending_for(operator))
    sv.rectification_submit(actor=operator, inspection=inspection, text="已配备灭火器4具并张贴警示标识")
    inspector = sup.assigned_user(inspection)
    assert any("已提交整改报告" in i.title for i in pending_for(inspector))
    sv.inspection_close(inspection=inspection, actor=inspector, note="经复查整改到位")
    inspection.refresh_from_db()
    assert inspection.status == Inspection.Status.CLOSED


def test_a_violation_outcome_is_closed_only_once_a_case_is_opened(sup):
    inspection = sup.drawn_inspection()
    sup.record(
        inspection,
        outcome=Inspection.Outcome.VIOLATION,
        items={**ALL_OK, CheckItem.ELIGIBILITY: ("PROBLEM", "3名学员称未报名")},
    )
    assert any(i.category == "违规立案" for i in pending_for(sup.admin))
    with pytest.raises(TransitionError, match="须先立案"):
        sv.inspection_close(inspection=inspection, actor=sup.admin, note="移交")
    sup.violation(inspection=inspection)
    sv.inspection_close(inspection=inspection, actor=sup.admin, note="已立案处理")


def test_phone_checks_call_trainees_of_the_inspected_class_only(sup):
    """第二十一条 电话抽查: a trainee on the roster is asked whether they attended and what was taught."""
    klass = sup.life.draft(start=dt.date(2026, 11, 23))
    training.opening_submit(training_class=klass, actor=sup.life.operator)
    training.opening_approve(training_class=klass, actor=sup.world.xincheng_reviewer)
    inspection = sv.inspection_plan(
        actor=sup.suna,
        kind=Inspection.Kind.PHONE,
        institution=sup.hongxiang,
        training_class=klass,
        inspectors=[sup.inspector(sup.suna)],
    )
    with pytest.raises(PeixunError, match="至少记录一名学员"):
        sup.record(inspection, actor=sup.suna, items={c: ("NOT_CHECKED", "") for c in CheckItem.values})
    li = klass.enrollments.get(person=sup.world.li_ming)
    check = sv.phone_check_record(
        inspection=inspection,
        actor=sup.suna,
        enrollment=li,
        reached=True,
        attended=PhoneCheck.Attended.NO,
        taught="没去上过课",
        matches_plan=False,
    )
    assert check.suspicious
    other = Enrollment.objects.create(
        training_class=TrainingClass.objects.create(
            code="QC-1",
            institution=sup.qingcheng,
            area=sup.qingcheng.area,
            occupation_code="4-10-01-05",
            occupation_name="养老护理员",
            level="5",
            training_type="EMPLOYMENT",
            start_date=TODAY,
            end_date=TODAY,
            total_hours=8,
            status=ClassStatus.APPROVED,
        ),
        person=sup.world.chen_jing,
        category="RURAL_MIGRANT",
    )
    with pytest.raises(PeixunError, match="不在被检查培训班的花名册上"):
        sv.phone_check_record(inspection=inspection, actor=sup.suna, enrollment=other, reached=False)


def test_an_on_site_check_needs_two_inspectors_and_respects_conflicts(sup):
    with pytest.raises(PeixunError, match="至少须2名"):
        sv.inspection_plan(
            actor=sup.suna,
            kind=Inspection.Kind.SPOT,
            institution=sup.hongxiang,
            inspectors=[sup.inspector(sup.suna)],
        )
    with pytest.raises(PeixunError, match="郝建军（本机构人员）"):
        sv.inspection_plan(
            actor=sup.admin,
            kind=Inspection.Kind.UNANNOUNCED,
            institution=sup.qingcheng,
            inspectors=[sup.inspector(sup.suna), sup.expert],
        )


def test_photos_are_hashed_and_only_images_are_accepted(sup, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    inspection = sup.drawn_inspection()
    inspector = sup.assigned_user(inspection)
    jpeg = b"\xff\xd8\xff\xe0" + b"0" * 100
    photo = sv.inspection_photo_add(
        inspection=inspection,
        actor=inspector,
        upload=SimpleUploadedFile("a.jpg", jpeg, "image/jpeg"),
        caption="实训室",
    )
    assert photo.sha256 == hashlib.sha256(jpeg).hexdigest()
    with pytest.raises(PeixunError, match="不是JPEG或PNG"):
        sv.inspection_photo_add(
            inspection=inspection, actor=inspector, upload=SimpleUploadedFile("a.jpg", b"MZ...", "image/jpeg")
        )


def test_results_are_public_once_published_or_when_the_period_ends(sup, clock):
    """一公开: institution, date, checked items and outcome, within the configured period."""
    inspection = sup.drawn_inspection()
    sup.record(inspection)
    inspection.refresh_from_db()
    assert inspection.publish_by is not None and inspection.publish_by > TODAY
    assert not public_inspections(TODAY).filter(pk=inspection.pk).exists()
    assert public_inspections(inspection.publish_by + dt.timedelta(days=1)).filter(pk=inspection.pk).exists()
    sv.inspection_publish(inspection=inspection, actor=sup.admin)
    assert public_inspections(TODAY).filter(pk=inspection.pk).exists()
    page = Client().get(reverse("supervision:public_results")).content.decode()
    assert sup.hongxiang.name in page and "实训安全" in page and "未发现问题" in page


def test_the_seed_and_the_drawn_names_are_public_only_after_the_inspections(sup):
    inspection = sup.drawn_inspection()
    draw = inspection.draw_target.draw
    assert not draw_revealed(draw, TODAY)
    page = Client().get(reverse("supervision:public_draw", args=[draw.pk])).content.decode()
    assert draw.seed not in page and sup.hongxiang.name not in page
    assert Client().get(reverse("supervision:public_pool", args=[draw.pk])).status_code == 404
    sup.record(inspection)
    sv.inspection_publish(inspection=inspection, actor=sup.admin)
    assert draw_revealed(draw, TODAY)
    page = Client().get(reverse("supervision:public_draw", args=[draw.pk])).content.decode()
    assert draw.seed in page and sup.hongxiang.name in page and "抽取结果一致" in page
    pool = Client().get(reverse("supervision:public_pool", args=[draw.pk]))
    assert hashlib.sha256(pool.content).hexdigest() == draw.pool_sha256
    recomputed = algo.select(algo.parse_pool(pool.content.decode()), draw.seed)
    assert recomputed.sha256 == draw.result_sha256


# --- violations and sanctions (第二十二条) -------------------------------------------------------------------


def test_removal_from_the_directory_blocks_new_class_applications_at_once(sup):
    """第二十二条 移出目录: from the day of the decision the institution cannot apply to open a class."""
    violation = sup.violation(ViolationType.FALSE_ROSTER, responsible_name="马某", responsible_role="校长")
    sup.sanction(violation, SanctionKind.REMOVE)
    sup.hongxiang.refresh_from_db()
    assert sup.hongxiang.status == Institution.Status.REMOVED
    klass = sup.life.draft(start=dt.date(2026, 11, 23))
    with pytest.raises(TransitionError, match="未列入培训机构目录"):
        training.opening_submit(training_class=klass, actor=sup.life.operator)
    assert AuditEntry.objects.filter(action="institution.directory.remove").exists()
    assert AuditEntry.objects.filter(action="supervision.sanction.remove").exists()


def test_an_application_pending_at_removal_cannot_be_approved(sup):
    """第二十一条/第二十二条: removal from the directory blocks new classes at once — an application
    submitted before the removal is judged again when the reviewer approves it."""
    klass = sup.life.draft(start=dt.date(2026, 11, 23))
    training.opening_submit(training_class=klass, actor=sup.life.operator)
    sup.sanction(sup.violation(ViolationType.FALSE_ROSTER), SanctionKind.REMOVE)
    with pytest.raises(TransitionError, match="不能批准开班"):
        training.opening_approve(training_class=klass, actor=sup.world.xincheng_reviewer)
    klass.refresh_from_db()
    assert klass.status == "OPENING_REVIEW"


def test_suspension_blocks_applications_until_it_is_lifted(sup):
    violation = sup.violation(ViolationType.HOURS_CUT)
    suspension = sup.sanction(violation, SanctionKind.SUSPEND, effective_to=TODAY + dt.timedelta(days=60))
    klass = sup.life.draft(start=dt.date(2026, 11, 23))
    with pytest.raises(TransitionError, match="暂停"):
        training.opening_submit(training_class=klass, actor=sup.life.operator)
    sv.sanction_end(
        sanction=suspension, actor=sup.admin, how="lift", ended_on=TODAY, note="整改到位，恢复开班"
    )
    sup.hongxiang.refresh_from_db()
    assert sup.hongxiang.status == Institution.Status.LISTED
    training.opening_submit(training_class=klass, actor=sup.life.operator)


def test_a_violation_enters_the_integrity_records_of_institution_and_responsible_person(sup):
    """第二十条: 将违规行为纳入诚信记录 — the institution's and its responsible person's."""
    violation = sup.violation(
        ViolationType.FALSE_ATTENDANCE,
        responsible_name="马文华",
        responsible_role="法定代表人",
        responsible_id_number=new_id_number("150102", dt.date(1972, 4, 8), True, seed=77),
    )
    record = IntegrityRecord.objects.get(violation=violation, kind=IntegrityRecord.Kind.VIOLATION)
    assert record.institution == sup.hongxiang and record.person.name == "马文华"
    assert record.person.id_masked.startswith("150102")
    sanction = sup.sanction(violation, SanctionKind.INTERVIEW)
    assert IntegrityRecord.objects.filter(sanction=sanction, person=record.person).exists()
    # the same person as the responsible person of another institution: found by ID number or name
    number = new_id_number("150102", dt.date(1972, 4, 8), True, seed=77)
    sup.violation(
        ViolationType.MISMANAGEMENT,
        institution=sup.qingcheng,
        responsible_name="马文华",
        responsible_id_number=number,
    )
    page = _client(sup.admin).post(reverse("supervision:integrity"), {"who": number}).content.decode()
    assert number not in page
    found = page.split('id="person-records"')[1].split("</table>")[0]
    assert sup.hongxiang.name in found and sup.qingcheng.name in found and record.person.id_masked in found
    assert (
        sup.qingcheng.name
        not in _client(sup.world.baotou_admin)
        .get(reverse("supervision:integrity") + f"?who={number}")
        .content.decode()
    )


def test_a_case_under_article_22_cannot_be_closed_without_removal(sup):
    violation = sup.violation(ViolationType.FALSE_EXAM)
    rectify = sup.sanction(violation, SanctionKind.RECTIFY)
    with pytest.raises(TransitionError, match="执行中的处理措施"):
        sv.violation_close(violation=violation, actor=sup.admin, note="")
    sv.sanction_end(sanction=rectify, actor=sup.admin, how="complete", ended_on=TODAY, note="整改到位")
    with pytest.raises(TransitionError, match="移出政府补贴性培训机构目录"):
        sv.violation_close(violation=violation, actor=sup.admin, note="")
    sup.sanction(violation, SanctionKind.REMOVE)
    sv.violation_close(violation=violation, actor=sup.admin, note="处理完毕")
    violation.refresh_from_db()
    assert violation.status == Violation.Status.CLOSED


def test_a_minor_case_closes_after_its_rectification(sup):
    violation = sup.violation(ViolationType.MISMANAGEMENT)
    rectify = sup.sanction(violation, SanctionKind.RECTIFY)
    sv.rectification_submit(actor=sup.life.operator, sanction=rectify, text="已建立学员档案管理制度")
    sv.sanction_end(sanction=rectify, actor=sup.admin, how="complete", ended_on=TODAY, note="复查到位")
    sv.violation_close(violation=violation, actor=sup.admin, note="")


def test_judicial_transfer_sends_the_clue_with_its_evidence(sup, settings, tmp_path):
    """第二十二条 涉嫌犯罪的，移送司法机关 — with the evidence package (第二十五条)."""
    settings.MEDIA_ROOT = tmp_path
    violation = sup.violation(ViolationType.FALSE_IDENTITY)
    with pytest.raises(PeixunError, match="公安机关"):
        sup.sanction(violation, SanctionKind.JUDICIAL)
    sanction = sup.sanction(violation, SanctionKind.JUDICIAL, recipient="呼和浩特市公安局新城区分局")
    clue = ClueTransfer.objects.get(sanction=sanction)
    assert clue.department == "PUBLIC_SECURITY" and clue.violation == violation


def test_only_deciders_of_the_area_sanction(sup):
    violation = sup.violation()
    for user in (sup.suna, sup.world.xincheng_reviewer, sup.world.baotou_admin, sup.life.operator):
        with pytest.raises(PermissionDeniedError):
            sup.sanction(violation, SanctionKind.INTERVIEW, actor=user)


# --- recovery of subsidies paid ---------------------------------------------------------------------------


def test_recovery_moves_from_ordered_to_partial_to_completed(sup):
    """追回 tracked to completion: receipts add up to the amount due."""
    violation = sup.violation(ViolationType.FALSE_ROSTER)
    lines = sup.paid_lines(2)
    recovery = sv.recovery_order(
        violation=violation,
        actor=sup.admin,
        lines=lines,
        ordered_on=TODAY,
        due_date=TODAY + dt.timedelta(days=30),
        document_no="呼人社追字〔2026〕1号",
    )
    assert recovery.amount_due == Decimal("3000.00") and recovery.status == Recovery.Status.ORDERED
    finance = user_create(
        username="qian_fin",
        password=PASSWORD,
        role=Role.FINANCE,
        display_name="钱晓梅",
        organisation=sup.world.xincheng,
        actor=None,
    )
    assert any(i.category == "资金追回" for i in pending_for(finance))
    recovery = sv.recovery_receive(
        recovery=recovery, actor=finance, amount=Decimal("1000"), received_on=TODAY, voucher_no="JK-001"
    )
    assert recovery.status == Recovery.Status.PARTIAL and recovery.outstanding == Decimal("2000.00")
    with pytest.raises(PeixunError, match="超过尚未追回"):
        sv.recovery_receive(
            recovery=recovery, actor=finance, amount=Decimal("2500"), received_on=TODAY, voucher_no="JK-002"
        )
    with pytest.raises(PeixunError, match="已登记"):
        sv.recovery_receive(
            recovery=recovery, actor=finance, amount=Decimal("10"), received_on=TODAY, voucher_no="JK-001"
        )
    recovery = sv.recovery_receive(
        recovery=recovery, actor=finance, amount=Decimal("2000"), received_on=TODAY, voucher_no="JK-002"
    )
    assert recovery.status == Recovery.Status.COMPLETED and recovery.completed_on == TODAY
    with pytest.raises(TransitionError):
        sv.recovery_receive(
            recovery=recovery, actor=finance, amount=Decimal("1"), received_on=TODAY, voucher_no="JK-003"
        )
    # the subsidy records themselves are untouched
    assert all(
        line.status == SubsidyLine.Status.PAID
        for line in SubsidyLine.objects.filter(pk__in=[x.pk for x in lines])
    )


def test_a_case_with_money_outstanding_cannot_be_closed(sup):
    violation = sup.violation(ViolationType.MISMANAGEMENT)
    sup.sanction(violation, SanctionKind.INTERVIEW)
    recovery = sv.recovery_order(
        violation=violation,
        actor=sup.admin,
        lines=sup.paid_lines(1),
        ordered_on=TODAY,
        due_date=TODAY,
        document_no="追1",
    )
    with pytest.raises(TransitionError, match="未全额追回"):
        sv.violation_close(violation=violation, actor=sup.admin, note="")
    sv.recovery_receive(
        recovery=recovery, actor=sup.admin, amount=Decimal("1500"), received_on=TODAY, voucher_no="V1"
    )
    sv.violation_close(violation=violation, actor=sup.admin, note="")


def test_only_paid_lines_of_the_institution_are_recovered_and_only_once(sup):
    violation = sup.violation()
    lines = sup.paid_lines(1)
    sv.recovery_order(
        violation=violation, actor=sup.admin, lines=lines, ordered_on=TODAY, due_date=TODAY, document_no="追1"
    )
    with pytest.raises(PeixunError, match="其他追回决定"):
        sv.recovery_order(
            violation=violation,
            actor=sup.admin,
            lines=lines,
            ordered_on=TODAY,
            due_date=TODAY,
            document_no="追2",
        )
    unpaid = sup.paid_lines(1)[0]
    SubsidyLine.objects.filter(pk=unpaid.pk).update(status=SubsidyLine.Status.PAYABLE)
    with pytest.raises(PeixunError, match="已拨付"):
        sv.recovery_order(
            violation=violation,
            actor=sup.admin,
            lines=[unpaid],
            ordered_on=TODAY,
            due_date=TODAY,
            document_no="追3",
        )


# --- annual inspection and credit rating (第二十条) ---------------------------------------------------------


def test_course_brushing_fails_the_annual_inspection(sup):
    """第二十条: 组织或代替培训对象刷课的培训机构，在年度检查中确定为不合格，并将违规行为纳入诚信记录."""
    sup.violation(ViolationType.COURSE_BRUSHING, description="使用外挂软件为学员刷线上学时")
    with pytest.raises(TransitionError, match="刷课"):
        sv.annual_inspection_decide(
            institution=sup.hongxiang, year=2026, actor=sup.admin, result="PASS", reasons="总体良好"
        )
    annual = sv.annual_inspection_decide(
        institution=sup.hongxiang,
        year=2026,
        actor=sup.admin,
        result="FAIL",
        reasons="组织学员刷课（第二十条）",
    )
    assert annual.basis["brushing"]
    assert IntegrityRecord.objects.filter(annual=annual, kind=IntegrityRecord.Kind.ANNUAL_FAIL).exists()
    with pytest.raises(TransitionError, match="已有结论"):
        sv.annual_inspection_decide(
            institution=sup.hongxiang, year=2026, actor=sup.admin, result="FAIL", reasons="重复"
        )


def test_a_confirmed_brushing_finding_also_fails_the_annual_inspection(sup):
    klass = sup.life.draft(start=dt.date(2026, 11, 23))
    Finding.objects.create(
        rule_code="ONLINE_IP_FARM",
        severity="REVIEW",
        training_class=klass,
        status=Finding.Status.CONFIRMED,
        evidence="同一IP 12人同时在线",
        article="第二十条 外挂软件刷课",
        rules_version=1,
        last_found_at=dt.datetime(2026, 11, 2, tzinfo=dt.UTC),
    )
    with pytest.raises(TransitionError, match="已确认刷课问题线索1条"):
        sv.annual_inspection_decide(
            institution=sup.hongxiang, year=2026, actor=sup.admin, result="PASS", reasons="良好"
        )


def test_an_institution_without_brushing_may_pass(sup):
    annual = sv.annual_inspection_decide(
        institution=sup.qingcheng, year=2025, actor=sup.admin, result="PASS", reasons="各项检查符合要求"
    )
    assert annual.result == AnnualInspection.Result.PASS


def test_the_credit_rating_formula():
    as_of = dt.date(2026, 11, 2)
    assert credit_rating(CreditFacts(as_of=as_of)).grade == "A"
    clean = credit_rating(CreditFacts(as_of=as_of, inspections=(("PASS", as_of),) * 10))
    assert clean.score == 100
    rectified = credit_rating(CreditFacts(as_of=as_of, inspections=(("RECTIFY", as_of),) * 2))
    assert (rectified.score, rectified.grade) == (90, "A")
    serious = credit_rating(
        CreditFacts(as_of=as_of, violations=(("HOURS_CUT", as_of),), confirmed_findings=3, trainees=50)
    )
    assert serious.score == 100 - 15 - 6 and serious.grade == "B"
    severe = credit_rating(
        CreditFacts(as_of=as_of, violations=(("FALSE_ROSTER", as_of),), inspections=(("PASS", as_of),) * 5)
    )
    assert severe.score == 80 and severe.grade == "C"  # capped: a severe violation
    brushing = credit_rating(CreditFacts(as_of=as_of, violations=(("COURSE_BRUSHING", as_of),)))
    assert brushing.grade == "D"
    old = credit_rating(CreditFacts(as_of=as_of, violations=(("FALSE_ROSTER", dt.date(2023, 1, 1)),)))
    assert old.score == 100  # outside the 36-month window
    employed = credit_rating(
        CreditFacts(as_of=as_of, violations=(("MISMANAGEMENT", as_of),), employment_rate=Decimal("0.85"))
    )
    assert employed.score == 100
    floor = credit_rating(CreditFacts(as_of=as_of, violations=(("FALSE_EXAM", as_of),) * 5))
    assert floor.score == 0 and floor.grade == "D"


# --- hand-over, joint enforcement, staff training (第二十四条、第二十五条) ------------------------------------------


def test_the_evidence_zip_carries_a_manifest_of_hashes(sup, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    inspection = sup.drawn_inspection()
    inspector = sup.assigned_user(inspection)
    sv.inspection_photo_add(
        inspection=inspection,
        actor=inspector,
        upload=SimpleUploadedFile("p.png", b"\x89PNG\r\n\x1a\n" + b"1" * 50, "image/png"),
    )
    sup.record(
        inspection,
        outcome=Inspection.Outcome.VIOLATION,
        items={**ALL_OK, CheckItem.PLAN: ("PROBLEM", "课程表与实际不符")},
    )
    violation = sup.violation(ViolationType.CONTENT_CHANGED, inspection=inspection)
    clue = sv.clue_transfer_send(
        actor=sup.admin,
        department="MARKET_REGULATION",
        recipient="新城区市场监督管理局",
        summary="涉嫌虚假宣传，移送处理",
        sent_on=TODAY,
        violation=violation,
        attachments=[SimpleUploadedFile("招生广告.pdf", b"%PDF-1.4 ad")],
    )
    data = clue.evidence.read()
    assert hashlib.sha256(data).hexdigest() == clue.evidence_sha256
    zf = zipfile.ZipFile(io.BytesIO(data))
    manifest = zf.read("manifest.csv")
    assert zf.read("manifest.sha256").decode().split()[0] == hashlib.sha256(manifest).hexdigest()
    rows = [line.split(",") for line in manifest.decode("utf-8-sig").strip().splitlines()[1:]]
    assert {r[0] for r in rows} >= {
        "violation.csv",
        "inspections.csv",
        "inspection_items.csv",
        "attachments/01_招生广告.pdf",
    }
    assert any(r[0].startswith("photos/") for r in rows)
    for path, sha, size, *_rest in rows:
        assert hashlib.sha256(zf.read(path)).hexdigest() == sha and int(size) == len(zf.read(path))
    sv.clue_transfer_reply(clue=clue, actor=sup.admin, reply_on=TODAY, reply="已受理")
    clue = sv.clue_transfer_close(clue=clue, actor=sup.admin, closed_on=TODAY, outcome="立案查处，罚款2万元")
    assert clue.status == ClueTransfer.Status.CLOSED
    response = _client(sup.admin).get(reverse("supervision:clue_evidence", args=[clue.pk]))
    assert (
        response.status_code == 200
        and AuditEntry.objects.filter(action="supervision.clue.evidence_downloaded").exists()
    )


def test_joint_enforcement_and_staff_training_are_logged(sup):
    record = sv.joint_enforcement_record(
        actor=sup.admin,
        held_on=TODAY,
        departments=["PUBLIC_SECURITY", "MARKET_REGULATION"],
        partner_units="新城区公安分局、新城区市场监管局",
        place="新城区",
        summary="联合检查3家培训机构",
        institutions=[sup.hongxiang],
    )
    assert record.department_labels() == ["公安机关", "市场监管部门"]
    session = sv.staff_training_record(
        actor=sup.admin,
        title="职业技能培训补贴政策解读",
        topic="POLICY",
        held_on=TODAY,
        hours=Decimal("3"),
        form="集中授课",
        attendees=[sup.world.xincheng_reviewer, sup.suna],
    )
    assert session.attendees.count() == 2
    with pytest.raises(PeixunError, match="参训人员须为本地区人社部门工作人员"):
        sv.staff_training_record(
            actor=sup.admin,
            title="x",
            topic="SYSTEM",
            held_on=TODAY,
            hours=1,
            form="视频",
            attendees=[sup.world.baotou_admin],
        )


# --- pages and their scope ---------------------------------------------------------------------------------


def _client(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def scene(sup, settings, tmp_path):
    """A recorded 双随机 inspection of 鸿翔 with a photo, a case with sanctions and a recovery, a clue."""
    settings.MEDIA_ROOT = tmp_path
    inspection = sup.drawn_inspection()
    inspector = sup.assigned_user(inspection)
    photo = sv.inspection_photo_add(
        inspection=inspection,
        actor=inspector,
        upload=SimpleUploadedFile("p.jpg", b"\xff\xd8\xff" + b"1" * 50, "image/jpeg"),
    )
    sup.record(
        inspection,
        outcome=Inspection.Outcome.RECTIFY,
        items={**ALL_OK, CheckItem.SAFETY: ("PROBLEM", "无灭火器")},
    )
    violation = sup.violation(ViolationType.HOURS_CUT, inspection=inspection)
    sup.sanction(violation, SanctionKind.RECTIFY)
    recovery = sv.recovery_order(
        violation=violation,
        actor=sup.admin,
        lines=sup.paid_lines(1),
        ordered_on=TODAY,
        due_date=TODAY,
        document_no="追1",
    )
    clue = sv.clue_transfer_send(
        actor=sup.admin,
        department="CYBERSPACE",
        recipient="自治区网信办",
        summary="网络虚假招生广告",
        sent_on=TODAY,
        violation=violation,
    )
    planned = sv.inspection_plan(
        actor=sup.admin,
        kind=Inspection.Kind.UNANNOUNCED,
        institution=sup.hongxiang,
        inspectors=[sup.inspector(sup.han), sup.inspector(sup.bai)],
    )
    qingcheng_op = user_create(
        username="qc_ops",
        password=PASSWORD,
        role=Role.INSTITUTION_OPERATOR,
        display_name="何春雨",
        organisation=sup.qingcheng.organisation,
        actor=None,
    )
    return {
        "sup": sup,
        "draw": inspection.draw_target.draw,
        "inspection": inspection,
        "inspector": inspector,
        "planned": planned,
        "photo": photo,
        "violation": violation,
        "recovery": recovery,
        "clue": clue,
        "qingcheng_op": qingcheng_op,
    }


def test_every_office_page_renders_for_the_city_admin(scene):
    sup = scene["sup"]
    client = _client(sup.admin)
    pages = [
        reverse("supervision:home"),
        reverse("supervision:draws"),
        reverse("supervision:draw_create"),
        reverse("supervision:draw_detail", args=[scene["draw"].pk]),
        reverse("supervision:draw_pool", args=[scene["draw"].pk]),
        reverse("supervision:inspectors"),
        reverse("supervision:conflicts"),
        reverse("supervision:inspections"),
        reverse("supervision:inspection_create"),
        reverse("supervision:inspection_detail", args=[scene["inspection"].pk]),
        reverse("supervision:inspection_detail", args=[scene["planned"].pk]),
        reverse("supervision:photo", args=[scene["photo"].pk]),
        reverse("supervision:violations"),
        reverse("supervision:violation_create"),
        reverse("supervision:violation_create") + f"?inspection={scene['inspection'].pk}",
        reverse("supervision:violation_detail", args=[scene["violation"].pk]),
        reverse("supervision:sanction_create", args=[scene["violation"].pk]),
        reverse("supervision:recovery_create", args=[scene["violation"].pk]),
        reverse("supervision:recoveries"),
        reverse("supervision:integrity"),
        reverse("supervision:integrity_detail", args=[sup.hongxiang.pk]),
        reverse("supervision:annual_list"),
        reverse("supervision:clues"),
        reverse("supervision:clue_create"),
        reverse("supervision:clue_detail", args=[scene["clue"].pk]),
        reverse("supervision:joint") + "?new=1",
        reverse("supervision:staff_training") + "?new=1",
        reverse("supervision:public_draws"),
        reverse("supervision:public_draw", args=[scene["draw"].pk]),
        reverse("supervision:public_results"),
    ]
    for url in pages:
        assert client.get(url).status_code == 200, url
    inspector = _client(scene["inspector"])
    for url in (
        reverse("supervision:inspection_detail", args=[scene["inspection"].pk]),
        reverse("supervision:phone_checks", args=[scene["inspection"].pk]),
        reverse("supervision:conflicts"),
    ):
        assert inspector.get(url).status_code == 200, url
    assert (
        _client(sup.han).get(reverse("supervision:inspection_record", args=[scene["planned"].pk])).status_code
        == 200
    )


def test_foreign_and_forbidden_pages_are_404(scene):
    """Scope first: a foreign object is a 404, as is a page the role may not use."""
    sup, world = scene["sup"], scene["sup"].world
    trainee = world.trainee
    operator, other_operator = sup.life.operator, scene["qingcheng_op"]
    draw, inspection, planned, violation, clue = (
        scene["draw"],
        scene["inspection"],
        scene["planned"],
        scene["violation"],
        scene["clue"],
    )
    expectations = {
        reverse("supervision:home"): {world.baotou_admin: 200, operator: 200, trainee: 404},
        reverse("supervision:draws"): {
            sup.admin: 200,
            world.region_admin: 200,
            world.xincheng_reviewer: 404,
            sup.suna: 404,
            operator: 404,
        },
        reverse("supervision:draw_detail", args=[draw.pk]): {
            sup.admin: 200,
            world.region_admin: 200,
            world.baotou_admin: 404,
            world.xincheng_reviewer: 404,
            operator: 404,
        },
        reverse("supervision:inspection_detail", args=[inspection.pk]): {
            world.xincheng_reviewer: 200,
            operator: 200,
            world.baotou_admin: 404,
            other_operator: 404,
            trainee: 404,
        },
        # a planned inspection is unknown to the institution, to reviewers and to inspectors not sent
        reverse("supervision:inspection_detail", args=[planned.pk]): {
            sup.admin: 200,
            sup.han: 200,
            sup.suna: 404,
            world.xincheng_reviewer: 404,
            operator: 404,
        },
        reverse("supervision:inspection_record", args=[planned.pk]): {
            sup.han: 200,
            sup.suna: 404,
            sup.admin: 404,
        },
        reverse("supervision:phone_checks", args=[inspection.pk]): {
            scene["inspector"]: 200,
            sup.admin: 404,
            operator: 404,
        },
        reverse("supervision:violation_detail", args=[violation.pk]): {
            operator: 200,
            world.xincheng_reviewer: 200,
            other_operator: 404,
            world.baotou_admin: 404,
        },
        reverse("supervision:violation_create"): {sup.admin: 200, sup.suna: 404, operator: 404},
        reverse("supervision:clue_detail", args=[clue.pk]): {
            sup.admin: 200,
            world.baotou_admin: 404,
            world.xincheng_reviewer: 404,
            operator: 404,
        },
        reverse("supervision:clue_evidence", args=[clue.pk]): {operator: 404, world.baotou_admin: 404},
        reverse("supervision:integrity_detail", args=[sup.hongxiang.pk]): {
            operator: 200,
            other_operator: 404,
            world.baotou_admin: 404,
        },
        reverse("supervision:recoveries"): {operator: 200, trainee: 404},
        reverse("supervision:staff_training"): {sup.admin: 200, world.xincheng_reviewer: 404, operator: 404},
        reverse("supervision:joint"): {sup.admin: 200, sup.suna: 404, operator: 404},
        reverse("supervision:inspectors"): {sup.admin: 200, sup.suna: 404},
        reverse("supervision:photo", args=[scene["photo"].pk]): {operator: 200, other_operator: 404},
    }
    for url, by_user in expectations.items():
        for user, status in by_user.items():
            assert _client(user).get(url).status_code == status, (url, user.username)
    login = Client().get(reverse("supervision:inspections"))
    assert login.status_code == 302 and "/accounts/login/" in login["Location"]
    for name in ("public_draws", "public_results"):
        assert Client().get(reverse(f"supervision:{name}")).status_code == 200


def test_lists_show_only_what_is_in_scope(scene):
    sup, world = scene["sup"], scene["sup"].world
    code = scene["inspection"].code
    assert code in _client(sup.admin).get(reverse("supervision:inspections")).content.decode()
    assert code not in _client(world.baotou_admin).get(reverse("supervision:inspections")).content.decode()
    assert (
        scene["planned"].code
        not in _client(sup.life.operator).get(reverse("supervision:inspections")).content.decode()
    )
    assert (
        scene["violation"].code
        not in _client(scene["qingcheng_op"]).get(reverse("supervision:violations")).content.decode()
    )
    assert (
        scene["violation"].code
        in _client(sup.life.operator).get(reverse("supervision:violations")).content.decode()
    )


def test_the_inspector_records_through_the_phone_page(scene):
    sup = scene["sup"]
    planned = scene["planned"]
    data = {
        "inspected_on": TODAY.isoformat(),
        "place": "新华大街1号",
        "trainees_present": "18",
        "summary": "暗访：教学秩序正常",
        "outcome": "PASS",
        **{f"result_{c}": "OK" for c in CheckItem.values},
    }
    response = _client(sup.han).post(reverse("supervision:inspection_record", args=[planned.pk]), data)
    assert response.status_code == 302
    planned.refresh_from_db()
    assert planned.status == Inspection.Status.CLOSED and planned.trainees_present == 18


def test_a_draw_is_created_and_executed_through_the_pages(sup):
    client = _client(sup.admin)
    response = client.post(
        reverse("supervision:draw_create"),
        {
            "title": "第四季度双随机抽查",
            "target_kind": "INSTITUTION",
            "sample_share": "5",
            "inspectors_per_target": "2",
            "inspection_due": DUE.isoformat(),
            "publish_within_days": "20",
        },
    )
    draw = Draw.objects.get()
    assert response.status_code == 302 and draw.sample_share == Decimal("0.0500")
    client.post(reverse("supervision:draw_execute", args=[draw.pk]))
    draw.refresh_from_db()
    assert draw.status == Draw.Status.DRAWN
    again = client.post(reverse("supervision:draw_execute", args=[draw.pk]), follow=True)
    assert "不能再次抽取" in again.content.decode()


def test_pending_work_tells_each_role_its_next_step(scene):
    sup = scene["sup"]
    assert any(i.category == "逾期未检查" or i.category == "明察暗访" for i in pending_for(sup.han))
    assert any(i.category == "结果公开" for i in pending_for(sup.admin))
    assert any(i.category == "整改" for i in pending_for(sup.life.operator))


# --- demo -------------------------------------------------------------------------------------------------


def test_seed_supervision_builds_past_draws_inspections_and_sanctions_once(
    reference_data, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    from peixun.supervision.demo import seed_supervision
    from peixun.web.demo import DEMO_PASSWORD, seed_demo

    seed_demo()  # calls seed_supervision itself
    assert Draw.objects.count() == 4 and Violation.objects.exists() and Inspection.objects.count() >= 2
    statuses = set(Draw.objects.values_list("status", flat=True))
    assert statuses == {Draw.Status.CANCELLED, Draw.Status.DRAWN, Draw.Status.COMMITTED}
    assert public_inspections().exists()
    assert any(draw_revealed(d) for d in Draw.objects.filter(status=Draw.Status.DRAWN))
    assert (
        Institution.objects.get(name="呼和浩特市青城电子商务职业培训学校").status
        == Institution.Status.REMOVED
    )
    assert AnnualInspection.objects.filter(result=AnnualInspection.Result.FAIL).exists()
    assert ClueTransfer.objects.exists() and Recovery.objects.exists()
    assert Inspection.objects.filter(status=Inspection.Status.PLANNED).exists()
    assert verify_chain() is None
    entries = AuditEntry.objects.count()
    assert seed_supervision(password=DEMO_PASSWORD) == {}
    assert AuditEntry.objects.count() == entries
    inspector = (
        Inspection.objects.filter(status=Inspection.Status.PLANNED)
        .first()
        .inspectors.exclude(user=None)
        .first()
    )
    client = Client()
    assert client.login(username=inspector.user.username, password=DEMO_PASSWORD)
    assert client.get(reverse("home")).status_code == 200


def test_the_verification_script_of_the_guide_recomputes_the_draw(sup, tmp_path):
    """The guide's stand-alone script (standard library only) gives the same three hashes."""
    import re
    import subprocess
    import sys
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[1] / "docs" / "guide" / "监督检查.md").read_text(
        encoding="utf-8"
    )
    script = re.search(r"<!-- verify-script -->\s*```python\n(.*?)```", guide, re.S).group(1)
    (tmp_path / "verify.py").write_text(script, encoding="utf-8")
    draw = sv.draw_execute(
        draw=sup.draw(
            sample_share=Decimal("1"),
            stratify=True,
            high_risk_threshold=Decimal("0"),
            high_risk_share=Decimal("0.5"),
        ),
        actor=sup.admin,
    )
    (tmp_path / "pool.json").write_bytes(draw.pool_text.encode())
    out = subprocess.run(
        [sys.executable, str(tmp_path / "verify.py"), str(tmp_path / "pool.json"), draw.seed],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"抽取池SHA-256 {draw.pool_sha256}" in out
    assert f"种子SHA-256   {draw.seed_sha256}" in out
    assert f"结果SHA-256   {draw.result_sha256}" in out


def test_risk_for_stratification_is_findings_per_100_trainees(sup):
    """按风险分层: 鸿翔 with 2 undismissed findings on 4 enrolments is at 50 per 100 — the high stratum."""
    klass = sup.life.draft(start=dt.date(2026, 11, 23))
    for n, person in enumerate([sup.world.li_ming, sup.world.chen_jing]):
        Finding.objects.create(
            rule_code="DECEASED" if n else "PUBLIC_PAYROLL",
            severity="BLOCK",
            training_class=klass,
            person=person,
            subject_key=person.id_hmac,
            evidence="测试",
            article="第十五条",
            rules_version=1,
            last_found_at=dt.datetime(2026, 11, 2, tzinfo=dt.UTC),
            status=Finding.Status.CONFIRMED if n else Finding.Status.OPEN,
        )
    Finding.objects.create(
        rule_code="BATCH_CHECKIN",
        severity="REVIEW",
        training_class=klass,
        evidence="已排除的不计入",
        article="第二十二条",
        rules_version=1,
        last_found_at=dt.datetime(2026, 11, 2, tzinfo=dt.UTC),
        status=Finding.Status.DISMISSED,
    )
    second = sup.life.draft(start=dt.date(2026, 11, 30))
    assert Enrollment.objects.filter(training_class__institution=sup.hongxiang).count() == 4
    draw = sup.draw(stratify=True, high_risk_threshold=Decimal("20"), high_risk_share=Decimal("1"))
    pool = algo.parse_pool(draw.pool_text)
    by_key = {t["key"]: t for t in pool["targets"]}
    assert by_key[f"I{sup.hongxiang.pk}"]["risk"] == "50.00"
    assert by_key[f"I{sup.hongxiang.pk}"]["stratum"] == algo.HIGH
    assert (
        by_key[f"I{sup.qingcheng.pk}"]["risk"] is None
        and by_key[f"I{sup.qingcheng.pk}"]["stratum"] == algo.NORMAL
    )
    sv.draw_execute(draw=draw, actor=sup.admin)
    assert draw.targets.filter(institution=sup.hongxiang, stratum=algo.HIGH).exists()
    assert second.pk


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_admins_creating_draws_at_once_get_consecutive_numbers(world, occupations, monkeypatch):
    """The number counter is locked: two draws made at the same moment never share a number."""
    Clock(monkeypatch).travel(TODAY)
    sup = Sup(world, None)
    codes, barrier = [], threading.Barrier(2)

    def create(actor):
        close_old_connections()
        try:
            barrier.wait()
            codes.append(sup.draw(actor=actor).code)
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(a,)) for a in (sup.admin, sup.admin)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(int(c[-3:]) for c in codes) == [1, 2]


def test_posts_a_role_may_not_make_answer_404(scene):
    """Reviewers and the institution may see an inspection but not close it; officials may not file
    the institution's rectification report."""
    sup, inspection = scene["sup"], scene["inspection"]
    url = reverse("supervision:inspection_close", args=[inspection.pk])
    for user in (sup.world.xincheng_reviewer, sup.life.operator):
        assert _client(user).post(url, {"note": "x"}).status_code == 404
    rectify = reverse("supervision:inspection_rectification", args=[inspection.pk])
    for user in (sup.admin, scene["inspector"]):
        assert _client(user).post(rectify, {"text": "x"}).status_code == 404
    assert _client(sup.life.operator).post(rectify, {"text": "已配备灭火器"}).status_code == 302
    assert inspection.rectifications.count() == 1
