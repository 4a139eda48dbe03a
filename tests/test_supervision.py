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
import threading
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection
from django.test import Client
from django.urls import reverse

from peixun.accounts.roles import Role
from peixun.accounts.services import user_create
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
    CheckItem,
    Draw,
    Inspection,
    InspectionItem,
    Inspector,
    Sanction,
    SanctionKind,
    Violation,
    ViolationType,
)
from peixun.training import services as training
from peixun.training.models import ClassStatus, Enrollment, TrainingClass
from tests.conftest import PASSWORD
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
    import hmac

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
def test_two_admins_executing_the_same_draw_at_once_draw_exactly_once(world, monkeypatch):
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
