"""Every write of the supervision app: one function per business action (第二十至二十五条), called by
the pages, the demo and the tests alike. Each runs in one transaction: lock, check the move of
`workflow.py`, write with `update_fields`, append the audit chain, notify on commit."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from peixun.accounts.models import Organisation, User
from peixun.accounts.roles import Perm, Role, has_perm
from peixun.accounts.scope import restrict
from peixun.accounts.services import person_register
from peixun.checks.models import Finding
from peixun.core.audit import audit_record
from peixun.core.errors import CalendarMissing, PeixunError, PermissionDeniedError, TransitionError
from peixun.core.workdays import add_workdays
from peixun.inbox.services import notify, officials_over, users_of_organisation
from peixun.institutions.models import Institution
from peixun.institutions.services import directory_change
from peixun.subsidies.models import SubsidyLine
from peixun.training.models import ClassStatus, Enrollment, TrainingClass

from . import draw as algo
from .evidence import build_evidence
from .models import (
    AnnualInspection,
    CheckItem,
    ClueTransfer,
    CodeCounter,
    Conflict,
    Department,
    Draw,
    DrawAssignment,
    DrawTarget,
    Inspection,
    InspectionItem,
    InspectionPhoto,
    Inspector,
    IntegrityRecord,
    JointEnforcement,
    PhoneCheck,
    Recovery,
    RecoveryReceipt,
    Rectification,
    Sanction,
    SanctionKind,
    StaffTraining,
    Violation,
    ViolationType,
)
from .selectors import annual_facts, brushing_evidence, inspector_users_in, pool_facts, visible_inspections
from .workflow import (
    CLUE_MOVES,
    DRAW_MOVES,
    INSPECTION_MOVES,
    ONE_OFF,
    RECOVERY_MOVES,
    SANCTION_MOVES,
    VIOLATION_MOVES,
    move,
)

DEFAULT_SAMPLE_SHARE = Decimal("0.05")
MIN_INSPECTORS = 2
PHOTO_MAX_BYTES = 10 * 1024 * 1024
PHOTO_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")
DOCUMENT_MAX_BYTES = 10 * 1024 * 1024
DECIDER_ROLES = (Role.CITY_ADMIN, Role.REGION_ADMIN)
# 第二十二条: behaviours for which the institution 要将其移出政府补贴性培训机构目录.
REMOVAL_REQUIRED = frozenset(ViolationType.values) - {ViolationType.MISMANAGEMENT}


# --- helpers -----------------------------------------------------------------------------------------


def _require(actor, perm: str, message: str) -> None:
    if not has_perm(actor, perm):
        raise PermissionDeniedError(message)


def _require_in_scope(model, pk, actor, message: str = "对象不存在或不在您的管辖范围内") -> None:
    if not restrict(model.objects.filter(pk=pk), actor).exists():
        raise PermissionDeniedError(message)


def _official_org(actor) -> Organisation:
    org = getattr(actor, "organisation", None)
    if org is None or not org.is_government:
        raise PermissionDeniedError("只有人社部门的工作人员可以执行此操作")
    return org


def next_code(prefix: str, area_code: str, year: int) -> str:
    """JC1501022026001: prefix, area, year and a number counted under a row lock (two clerks at once
    wait for each other instead of both taking the same number)."""
    for _attempt in range(3):
        try:
            with transaction.atomic():
                counter, _created = CodeCounter.objects.select_for_update().get_or_create(
                    prefix=prefix, area_code=area_code, year=year
                )
                counter.last += 1
                counter.save(update_fields=["last"])
                return f"{prefix}{area_code}{year}{counter.last:03d}"
        except IntegrityError:
            continue  # another transaction created the counter row first: lock it and count on
    raise PeixunError("编号生成失败，请重试")


def _file_sha256(upload) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    for chunk in upload.chunks():
        digest.update(chunk)
        size += len(chunk)
    upload.seek(0)
    return digest.hexdigest(), size


def _check_document(upload, label: str) -> None:
    if upload is None:
        return
    if upload.size > DOCUMENT_MAX_BYTES:
        raise PeixunError(f"{label}不能超过10MB")
    if not upload.name.lower().endswith((".pdf", ".ofd", ".jpg", ".jpeg", ".png")):
        raise PeixunError(f"{label}只接受PDF、OFD、JPG或PNG文件")


def _deciders_over(area) -> list[User]:
    return officials_over(area, DECIDER_ROLES)


def _url(name: str, pk: int) -> str:
    return reverse(f"supervision:{name}", args=[pk])


def _publish_deadline(day: dt.date, workdays: int) -> dt.date:
    """The last day to publish a result: N working days after the inspection. Without the holiday
    calendar of that year, calendar days count (never later than the working-day rule)."""
    try:
        return add_workdays(day, workdays)
    except CalendarMissing:
        return day + dt.timedelta(days=workdays)


# --- the inspector roster (检查人员名录) -----------------------------------------------------------------


def inspector_roster_sync(*, area, actor=None) -> int:
    """Every active 督导检查员 account of the area is on the roster (a new one joins the next draw)."""
    added = 0
    with transaction.atomic():
        for user in inspector_users_in(area).filter(inspector__isnull=True):
            inspector = Inspector.objects.create(
                user=user,
                name=user.get_full_name(),
                kind=Inspector.Kind.OFFICIAL,
                organisation=user.organisation,
            )
            audit_record(
                actor=actor,
                action="supervision.inspector.added",
                obj=inspector,
                area=user.organisation.area,
                organisation=user.organisation,
                after={
                    "name": inspector.name,
                    "kind": inspector.kind,
                    "organisation": user.organisation.name,
                },
            )
            added += 1
    return added


def expert_register(*, actor, name: str, organisation: Organisation, speciality: str = "") -> Inspector:
    """特邀专家: e.g. a teacher of a technical college; never assigned to their own organisation."""
    _require(actor, Perm.MANAGE_DRAWS, "您无权维护检查人员名录")
    _require_in_scope(Organisation, organisation.pk, actor, "该单位不在您的管辖范围内")
    if not name.strip():
        raise PeixunError("请填写姓名")
    with transaction.atomic():
        inspector = Inspector.objects.create(
            name=name.strip(),
            kind=Inspector.Kind.EXPERT,
            organisation=organisation,
            speciality=speciality.strip(),
        )
        audit_record(
            actor=actor,
            action="supervision.inspector.added",
            obj=inspector,
            area=organisation.area,
            organisation=organisation,
            after={"name": inspector.name, "kind": inspector.kind, "organisation": organisation.name},
        )
    return inspector


def inspector_set_active(*, actor, inspector: Inspector, active: bool, reason: str) -> Inspector:
    _require(actor, Perm.MANAGE_DRAWS, "您无权维护检查人员名录")
    _require_in_scope(Inspector, inspector.pk, actor)
    if not reason.strip():
        raise PeixunError("请填写原因")
    with transaction.atomic():
        locked = Inspector.objects.select_for_update().get(pk=inspector.pk)
        if locked.active == active:
            return locked
        locked.active = active
        locked.save(update_fields=["active"])
        audit_record(
            actor=actor,
            action="supervision.inspector.activated" if active else "supervision.inspector.deactivated",
            obj=locked,
            area=locked.organisation.area,
            after={"active": active, "reason": reason.strip()},
        )
    return locked


def conflict_declare(*, actor, inspector: Inspector, institution: Institution, reason: str) -> Conflict:
    """回避申报: an inspector for themself, or the organiser for anyone on the roster in scope."""
    own = getattr(actor, "inspector", None) if actor.role == Role.INSPECTOR else None
    if own is None or own.pk != inspector.pk:
        _require(actor, Perm.MANAGE_DRAWS, "只能为本人申报回避，或由抽查组织单位登记")
        _require_in_scope(Inspector, inspector.pk, actor)
    if not reason.strip():
        raise PeixunError("请填写回避事由")
    with transaction.atomic():
        if Conflict.objects.filter(
            inspector=inspector, institution=institution, withdrawn_at__isnull=True
        ).exists():
            raise PeixunError(f"已申报与“{institution.name}”的回避")
        conflict = Conflict.objects.create(
            inspector=inspector, institution=institution, reason=reason.strip(), declared_by=actor
        )
        audit_record(
            actor=actor,
            action="supervision.conflict.declared",
            obj=conflict,
            area=inspector.organisation.area,
            after={"inspector": inspector.name, "institution": institution.name, "reason": reason.strip()},
        )
    return conflict


def conflict_withdraw(*, actor, conflict: Conflict, reason: str) -> Conflict:
    own = getattr(actor, "inspector", None) if actor.role == Role.INSPECTOR else None
    if not (own and own.pk == conflict.inspector_id) and not has_perm(actor, Perm.MANAGE_DRAWS):
        raise PermissionDeniedError("只能撤回本人的回避申报")
    if not reason.strip():
        raise PeixunError("请填写撤回原因")
    with transaction.atomic():
        locked = Conflict.objects.select_for_update().get(pk=conflict.pk)
        if locked.withdrawn_at is not None:
            raise TransitionError("该回避申报已撤回")
        locked.withdrawn_at = timezone.now()
        locked.save(update_fields=["withdrawn_at"])
        audit_record(
            actor=actor,
            action="supervision.conflict.withdrawn",
            obj=locked,
            area=locked.inspector.organisation.area,
            after={"reason": reason.strip()},
        )
    return locked


# --- 双随机 draws (第二十一条) -------------------------------------------------------------------------


def draw_create(
    *,
    actor,
    title: str,
    target_kind: str,
    inspection_due: dt.date,
    sample_share: Decimal = DEFAULT_SAMPLE_SHARE,
    inspectors_per_target: int = MIN_INSPECTORS,
    stratify: bool = False,
    high_risk_threshold: Decimal | None = None,
    high_risk_share: Decimal | None = None,
    publish_within_days: int = 20,
) -> Draw:
    """Freeze the pools of the organiser's area and publish the SHA-256 of a new secret seed. The draw
    itself is `draw_execute`; nothing about this draw can change in between."""
    _require(actor, Perm.MANAGE_DRAWS, "您无权组织双随机抽查")
    org = _official_org(actor)
    today = timezone.localdate()
    problems = []
    if not title.strip():
        problems.append("请填写抽查任务名称")
    if target_kind not in Draw.TargetKind.values:
        problems.append("请选择抽查对象")
    sample_share = Decimal(sample_share)
    if not (Decimal("0") < sample_share <= Decimal("1")):
        problems.append("抽查比例须大于0%且不超过100%")
    if inspectors_per_target < MIN_INSPECTORS:
        problems.append(f"每个对象至少派{MIN_INSPECTORS}名检查人员")
    if inspection_due < today:
        problems.append("检查完成期限不能早于今天")
    if stratify:
        if high_risk_threshold is None or Decimal(high_risk_threshold) < 0:
            problems.append("按风险分层时须填写高风险阈值（每百名学员问题线索数）")
        if high_risk_share is None or not (Decimal("0") < Decimal(high_risk_share) <= Decimal("1")):
            problems.append("按风险分层时须填写高风险层抽查比例（大于0%且不超过100%）")
    else:
        high_risk_threshold = high_risk_share = None
    if problems:
        raise PeixunError("；".join(problems))
    area = org.area
    inspector_roster_sync(area=area, actor=actor)
    targets, inspectors, conflicts = pool_facts(
        area=area,
        target_kind=target_kind,
        on_date=today,
        stratify=stratify,
        threshold=None if high_risk_threshold is None else Decimal(high_risk_threshold),
    )
    if not targets:
        raise PeixunError("抽查范围内没有可抽取的对象（目录内机构或在训培训班）")
    pool_args = dict(
        area=area.code,
        target_kind=target_kind,
        sample_share=sample_share,
        inspectors_per_target=inspectors_per_target,
        stratify=stratify,
        high_risk_threshold=high_risk_threshold,
        high_risk_share=high_risk_share,
        targets=targets,
        inspectors=inspectors,
        conflicts=conflicts,
    )
    try:
        algo.check_feasible(algo.build_pool(code="", **pool_args))
    except algo.DrawImpossible as exc:
        raise PeixunError(f"{exc}，请先补充检查人员名录") from exc
    seed = algo.new_seed()
    with transaction.atomic():
        # The number is taken in the draw's own transaction: draw numbers have no gaps, so a missing
        # number would show a draw made and hidden.
        code = next_code("SJ", area.code, today.year)
        pool = algo.build_pool(code=code, **pool_args)
        text = algo.canonical_pool(pool)
        created = Draw.objects.create(
            code=code,
            title=title.strip(),
            area=area,
            organisation=org,
            target_kind=target_kind,
            sample_share=sample_share,
            inspectors_per_target=inspectors_per_target,
            stratify=stratify,
            high_risk_threshold=high_risk_threshold,
            high_risk_share=high_risk_share,
            inspection_due=inspection_due,
            publish_within_days=publish_within_days,
            pool_text=text,
            pool_sha256=algo.pool_sha256(pool),
            pool_targets=len(targets),
            pool_inspectors=len(inspectors),
            seed=seed,
            seed_sha256=algo.seed_sha256(seed),
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action="supervision.draw.committed",
            obj=created,
            area=area,
            organisation=org,
            after={
                "code": code,
                "title": created.title,
                "pool_sha256": created.pool_sha256,
                "seed_sha256": created.seed_sha256,
                "pool_targets": len(targets),
                "pool_inspectors": len(inspectors),
                "sample_share": sample_share,
                "inspectors_per_target": inspectors_per_target,
                "stratify": stratify,
            },
        )
    return created


def draw_execute(*, draw: Draw, actor) -> Draw:
    """抽取: once. The result follows from the frozen pool and the committed seed alone; the targets,
    their inspectors and a planned inspection for each are stored, and the inspectors told."""
    spec = move(DRAW_MOVES, "execute")
    _require(actor, spec.perm, "您无权组织双随机抽查")
    _require_in_scope(Draw, draw.pk, actor)
    with transaction.atomic():
        locked = Draw.objects.select_for_update().get(pk=draw.pk)
        if locked.status not in spec.source:
            raise TransitionError(f"抽查{locked.code}当前状态为“{locked.get_status_display()}”，不能再次抽取")
        if hashlib.sha256(locked.pool_text.encode()).hexdigest() != locked.pool_sha256:
            raise PeixunError("抽取池与公布的哈希不符，不能抽取（请联系系统管理员核查）")
        if algo.seed_sha256(locked.seed) != locked.seed_sha256:
            raise PeixunError("随机种子与公布的哈希不符，不能抽取（请联系系统管理员核查）")
        pool = algo.parse_pool(locked.pool_text)
        try:
            result = algo.select(pool, locked.seed)
        except algo.DrawImpossible as exc:
            raise PeixunError(str(exc)) from exc
        now = timezone.now()
        inspectors = {
            i.key: i for i in Inspector.objects.filter(pk__in=[int(p["key"][1:]) for p in pool["inspectors"]])
        }
        targets_by_key = {t["key"]: t for t in pool["targets"]}
        class_ids = [int(t.key[1:]) for t in result.targets if t.key.startswith("C")]
        classes = {c.pk: c for c in TrainingClass.objects.filter(pk__in=class_ids)}
        told: dict[int, list[str]] = {}
        for drawn in result.targets:
            if drawn.key.startswith("I"):
                institution_id, klass = int(drawn.key[1:]), None
            else:
                klass = classes[int(drawn.key[1:])]
                institution_id = klass.institution_id
            target = DrawTarget.objects.create(
                draw=locked,
                rank=drawn.rank,
                key=drawn.key,
                stratum=drawn.stratum,
                score=drawn.score,
                institution_id=institution_id,
                training_class=klass,
            )
            inspection = Inspection.objects.create(
                code=next_code("JC", locked.area.code, now.year),
                kind=Inspection.Kind.DRAW,
                draw_target=target,
                institution_id=institution_id,
                training_class=klass,
                planned_by=actor,
                due_date=locked.inspection_due,
            )
            for key, s in drawn.inspectors:
                DrawAssignment.objects.create(target=target, inspector=inspectors[key], score=s)
                inspection.inspectors.add(inspectors[key])
                if inspectors[key].user_id:
                    told.setdefault(inspectors[key].user_id, []).append(targets_by_key[drawn.key]["name"])
        locked.status = Draw.Status.DRAWN
        locked.drawn_at = now
        locked.drawn_by = actor
        locked.result_sha256 = result.sha256
        locked.save(update_fields=["status", "drawn_at", "drawn_by", "result_sha256"])
        audit_record(
            actor=actor,
            action="supervision.draw.executed",
            obj=locked,
            area=locked.area,
            organisation=locked.organisation,
            before={"status": Draw.Status.COMMITTED},
            after={
                "status": Draw.Status.DRAWN,
                "seed": locked.seed,
                "seed_sha256": locked.seed_sha256,
                "pool_sha256": locked.pool_sha256,
                "result_sha256": result.sha256,
                "targets": len(result.targets),
            },
        )
        for user in User.objects.filter(pk__in=told):
            notify(
                [user],
                title=f"双随机抽查{locked.code}：您被抽中检查{len(told[user.pk])}个对象，请于{locked.inspection_due}前完成",
                body="、".join(told[user.pk]) + "。检查前不得向被检查对象透露。",
                url=reverse("supervision:inspections") + "?mine=1",
            )
    draw.status = locked.status
    return locked


def draw_cancel(*, draw: Draw, actor, reason: str) -> Draw:
    spec = move(DRAW_MOVES, "cancel")
    _require(actor, spec.perm, "您无权组织双随机抽查")
    _require_in_scope(Draw, draw.pk, actor)
    if not reason.strip():
        raise PeixunError("请填写作废原因（作废记录向社会公开）")
    with transaction.atomic():
        locked = Draw.objects.select_for_update().get(pk=draw.pk)
        if locked.status not in spec.source:
            raise TransitionError(f"抽查{locked.code}当前状态为“{locked.get_status_display()}”，不能作废")
        locked.status = Draw.Status.CANCELLED
        locked.cancelled_at = timezone.now()
        locked.cancel_reason = reason.strip()
        locked.save(update_fields=["status", "cancelled_at", "cancel_reason"])
        audit_record(
            actor=actor,
            action="supervision.draw.cancelled",
            obj=locked,
            area=locked.area,
            organisation=locked.organisation,
            before={"status": Draw.Status.COMMITTED},
            after={"status": Draw.Status.CANCELLED, "reason": locked.cancel_reason, "seed": locked.seed},
        )
    draw.status = locked.status
    return locked


def draw_replace_inspector(*, assignment: DrawAssignment, actor, reason: str) -> DrawAssignment:
    """An inspector drawn cannot go (illness, a tie found later): the next one in the same HMAC order
    takes the place, so the replacement is as verifiable as the draw."""
    _require(actor, Perm.MANAGE_DRAWS, "您无权调整抽查人员")
    target = assignment.target
    _require_in_scope(Draw, target.draw_id, actor)
    if not reason.strip():
        raise PeixunError("请填写替换原因")
    with transaction.atomic():
        draw_row = Draw.objects.select_for_update().get(pk=target.draw_id)
        locked = DrawAssignment.objects.select_for_update().get(pk=assignment.pk)
        inspection = Inspection.objects.select_for_update().get(draw_target=target)
        if inspection.status != Inspection.Status.PLANNED:
            raise TransitionError("检查已录入结果，不能再替换检查人员")
        if locked.replaced_at is not None:
            raise TransitionError("该检查人员已被替换")
        used = {f"P{i}" for i in target.assignments.values_list("inspector_id", flat=True)}
        pool = algo.parse_pool(draw_row.pool_text)
        nxt = algo.replacement(pool, draw_row.seed, target.key, used)
        if nxt is None:
            raise PeixunError("抽取池中已没有可替换的检查人员")
        key, s = nxt
        newcomer = Inspector.objects.get(pk=int(key[1:]))
        locked.replaced_at = timezone.now()
        locked.replaced_reason = reason.strip()
        locked.save(update_fields=["replaced_at", "replaced_reason"])
        created = DrawAssignment.objects.create(target=target, inspector=newcomer, score=s, replaces=locked)
        inspection.inspectors.remove(locked.inspector)
        inspection.inspectors.add(newcomer)
        audit_record(
            actor=actor,
            action="supervision.draw.inspector_replaced",
            obj=draw_row,
            area=draw_row.area,
            after={
                "target": target.key,
                "replaced": locked.inspector.name,
                "by": newcomer.name,
                "reason": reason.strip(),
            },
        )
        if newcomer.user_id:
            notify(
                [newcomer.user],
                title=f"双随机抽查{draw_row.code}：您替换{locked.inspector.name}检查{inspection.institution.name}",
                url=_url("inspection_detail", inspection.pk),
            )
    return created


# --- inspections (第二十一条) ---------------------------------------------------------------------------


def _ineligible(inspectors, institution: Institution) -> list[str]:
    conflicted = set(
        Conflict.objects.filter(
            institution=institution, withdrawn_at__isnull=True, inspector__in=inspectors
        ).values_list("inspector_id", flat=True)
    )
    return [
        f"{i.name}（{'本机构人员' if i.organisation_id == institution.organisation_id else '已申报回避'}）"
        for i in inspectors
        if i.organisation_id == institution.organisation_id or i.pk in conflicted
    ]


def inspection_plan(
    *,
    actor,
    kind: str,
    institution: Institution,
    inspectors: list[Inspector],
    due_date: dt.date | None = None,
    training_class: TrainingClass | None = None,
) -> Inspection:
    """An inspection outside a draw: 实地督导评估, 明察暗访, 随机现场抽查 or 电话抽查. On site at least two
    inspectors go; nobody of the institution's own organisation or with a declared conflict."""
    if not (has_perm(actor, Perm.MANAGE_DRAWS) or has_perm(actor, Perm.INSPECT)):
        raise PermissionDeniedError("您无权安排检查")
    _require_in_scope(Institution, institution.pk, actor, "该机构不在您的管辖范围内")
    if kind not in Inspection.Kind.values or kind == Inspection.Kind.DRAW:
        raise PeixunError("双随机抽查由抽取产生；请选择其他检查方式")
    if training_class is not None and training_class.institution_id != institution.pk:
        raise PeixunError("所选培训班不属于该机构")
    inspectors = list(dict.fromkeys(inspectors))
    problems = []
    need = 1 if kind == Inspection.Kind.PHONE else MIN_INSPECTORS
    if len(inspectors) < need:
        problems.append(f"{Inspection.Kind(kind).label}至少须{need}名检查人员")
    if any(not i.active for i in inspectors):
        problems.append("所选检查人员中有人已不在名录中")
    bad = _ineligible(inspectors, institution)
    if bad:
        problems.append("以下人员应回避：" + "、".join(bad))
    if problems:
        raise PeixunError("；".join(problems))
    with transaction.atomic():
        inspection = Inspection.objects.create(
            code=next_code("JC", institution.area.code, timezone.localdate().year),
            kind=kind,
            institution=institution,
            training_class=training_class,
            planned_by=actor,
            due_date=due_date,
        )
        inspection.inspectors.set(inspectors)
        audit_record(
            actor=actor,
            action="supervision.inspection.planned",
            obj=inspection,
            area=institution.area,
            after={
                "kind": kind,
                "institution": institution.name,
                "class": training_class.code if training_class else "",
                "inspectors": [i.name for i in inspectors],
            },
        )
        others = [i.user for i in inspectors if i.user_id and i.user_id != actor.pk]
        if others:
            notify(
                others,
                title=f"{Inspection.Kind(kind).label}：{institution.name}（{inspection.code}）",
                body="检查前不得向被检查对象透露。",
                url=_url("inspection_detail", inspection.pk),
            )
    return inspection


def _require_assigned(actor, inspection: Inspection) -> None:
    _require(actor, Perm.INSPECT, "只有检查人员可以录入检查记录")
    if not inspection.inspectors.filter(user=actor).exists():
        raise PermissionDeniedError("您不是本次检查的检查人员")


def inspection_record(
    *,
    inspection: Inspection,
    actor,
    inspected_on: dt.date,
    items: dict[str, tuple[str, str]],
    outcome: str,
    summary: str,
    place: str = "",
    trainees_present: int | None = None,
    follow_up: str = "",
    follow_up_due: dt.date | None = None,
) -> Inspection:
    """录入检查结果: the 第二十一条 checklist, what was seen, the outcome and what must be put right."""
    spec = move(INSPECTION_MOVES, "record")
    _require_assigned(actor, inspection)
    today = timezone.localdate()
    problems = []
    if inspected_on > today:
        problems.append("检查日期不能晚于今天")
    missing = [str(CheckItem(c).label) for c in CheckItem.values if c not in items]
    if missing:
        problems.append("请逐项填写检查要素：" + "、".join(missing))
    results = {code: r for code, (r, _note) in items.items()}
    if any(r not in InspectionItem.Result.values for r in results.values()):
        problems.append("检查要素的结果无效")
    unexplained = [
        str(CheckItem(code).label)
        for code, (r, note) in items.items()
        if r == InspectionItem.Result.PROBLEM and not note.strip()
    ]
    if unexplained:
        problems.append("不符合的要素须说明情况：" + "、".join(unexplained))
    if inspection.kind != Inspection.Kind.PHONE and all(
        r == InspectionItem.Result.NOT_CHECKED for r in results.values()
    ):
        problems.append("现场检查至少须检查一项要素")
    if outcome not in Inspection.Outcome.values:
        problems.append("请选择检查结论")
    elif outcome == Inspection.Outcome.PASS and InspectionItem.Result.PROBLEM in results.values():
        problems.append("有不符合的要素时，检查结论不能为“未发现问题”")
    if outcome == Inspection.Outcome.RECTIFY and (not follow_up.strip() or follow_up_due is None):
        problems.append("责令整改须写明整改要求和整改期限")
    if follow_up_due is not None and follow_up_due < inspected_on:
        problems.append("整改期限不能早于检查日期")
    if not summary.strip():
        problems.append("请填写检查情况")
    if problems:
        raise PeixunError("；".join(problems))
    with transaction.atomic():
        locked = Inspection.objects.select_for_update().get(pk=inspection.pk)
        if locked.status not in spec.source:
            raise TransitionError(
                f"检查{locked.code}当前状态为“{locked.get_status_display()}”，不能再录入结果"
            )
        if locked.kind == Inspection.Kind.PHONE and not locked.phone_checks.exists():
            raise PeixunError("电话抽查须至少记录一名学员的通话情况")
        for code, (result, note) in items.items():
            InspectionItem.objects.create(
                inspection=locked, item=code, result=result, note=note.strip()[:500]
            )
        roster = None
        if locked.training_class_id:
            roster = Enrollment.objects.filter(
                training_class_id=locked.training_class_id, removed_at__isnull=True
            ).count()
        before = locked.status
        locked.status = (
            Inspection.Status.CLOSED if outcome == Inspection.Outcome.PASS else Inspection.Status.FOLLOW_UP
        )
        locked.inspected_on = inspected_on
        locked.place = place.strip()
        locked.trainees_present = trainees_present
        locked.trainees_on_roster = roster
        locked.summary = summary.strip()
        locked.outcome = outcome
        locked.follow_up = follow_up.strip()
        locked.follow_up_due = follow_up_due
        locked.recorded_by = actor
        locked.recorded_at = timezone.now()
        fields = [
            "status",
            "inspected_on",
            "place",
            "trainees_present",
            "trainees_on_roster",
            "summary",
            "outcome",
            "follow_up",
            "follow_up_due",
            "recorded_by",
            "recorded_at",
        ]
        if locked.status == Inspection.Status.CLOSED:
            locked.closed_at, locked.closed_by = locked.recorded_at, actor
            fields += ["closed_at", "closed_by"]
        if locked.draw_target_id:
            locked.publish_by = _publish_deadline(inspected_on, locked.draw_target.draw.publish_within_days)
            fields.append("publish_by")
        locked.save(update_fields=fields)
        audit_record(
            actor=actor,
            action="supervision.inspection.recorded",
            obj=locked,
            area=locked.institution.area,
            organisation=locked.institution.organisation,
            before={"status": before},
            after={
                "status": locked.status,
                "inspected_on": inspected_on,
                "outcome": outcome,
                "items": {
                    str(CheckItem(c).label): str(InspectionItem.Result(r).label) for c, r in results.items()
                },
                "follow_up_due": follow_up_due,
            },
        )
        url = _url("inspection_detail", locked.pk)
        notify(
            users_of_organisation(locked.institution.organisation),
            title=f"监督检查{locked.code}：{Inspection.Outcome(outcome).label}",
            body=(
                f"整改要求：{locked.follow_up}，请于{follow_up_due}前整改并提交整改报告。"
                if follow_up_due
                else ""
            ),
            url=url,
            sms=outcome != Inspection.Outcome.PASS,
        )
        if outcome == Inspection.Outcome.VIOLATION:
            notify(
                _deciders_over(locked.institution.area),
                title=f"检查{locked.code}发现违规：{locked.institution.name}，请立案处理",
                url=url,
                level="warning",
            )
    inspection.status = locked.status
    return locked


def inspection_photo_add(*, inspection: Inspection, actor, upload, caption: str = "") -> InspectionPhoto:
    _require_assigned(actor, inspection)
    if inspection.status == Inspection.Status.CLOSED:
        raise TransitionError("检查已办结，不能再上传照片")
    head = upload.read(16)
    upload.seek(0)
    if not head.startswith(PHOTO_SIGNATURES):
        raise PeixunError(f"“{upload.name}”不是JPEG或PNG照片")
    if upload.size > PHOTO_MAX_BYTES:
        raise PeixunError(f"“{upload.name}”超过10MB，请压缩后上传")
    sha, size = _file_sha256(upload)
    with transaction.atomic():
        photo = InspectionPhoto.objects.create(
            inspection=inspection,
            image=upload,
            sha256=sha,
            size=size,
            caption=caption.strip()[:100],
            uploaded_by=actor,
        )
        audit_record(
            actor=actor,
            action="supervision.inspection.photo_added",
            obj=inspection,
            area=inspection.institution.area,
            after={"file": photo.image.name, "sha256": sha, "caption": photo.caption},
        )
    return photo


def phone_check_candidates(inspection: Inspection):
    """The trainees an inspector may call: the class's roster, or all current rosters of the institution."""
    qs = Enrollment.objects.select_related("person", "training_class")
    if inspection.training_class_id:
        return qs.filter(training_class_id=inspection.training_class_id)
    return qs.filter(
        training_class__institution_id=inspection.institution_id,
        training_class__status__in=[
            ClassStatus.APPROVED,
            ClassStatus.COMPLETION_REVIEW,
            ClassStatus.COMPLETED,
        ],
    )


def phone_check_record(
    *,
    inspection: Inspection,
    actor,
    enrollment: Enrollment,
    reached: bool,
    attended: str = "",
    taught: str = "",
    matches_plan: bool | None = None,
    note: str = "",
) -> PhoneCheck:
    """电话抽查: one call to one trainee of the inspected class."""
    _require_assigned(actor, inspection)
    if inspection.status == Inspection.Status.CLOSED:
        raise TransitionError("检查已办结，不能再记录电话抽查")
    if not phone_check_candidates(inspection).filter(pk=enrollment.pk).exists():
        raise PeixunError("该学员不在被检查培训班的花名册上")
    if reached and attended not in PhoneCheck.Attended.values:
        raise PeixunError("接通时须记录学员是否参训")
    if not reached:
        attended, taught, matches_plan = "", "", None
    with transaction.atomic():
        check = PhoneCheck.objects.create(
            inspection=inspection,
            enrollment=enrollment,
            called_at=timezone.now(),
            reached=reached,
            attended=attended,
            taught=taught.strip()[:300],
            matches_plan=matches_plan,
            note=note.strip()[:300],
            recorded_by=actor,
        )
        audit_record(
            actor=actor,
            action="supervision.phone_check.recorded",
            obj=inspection,
            area=inspection.institution.area,
            after={
                "trainee": enrollment.person.name,
                "reached": reached,
                "attended": attended,
                "matches_plan": matches_plan,
            },
        )
    return check


def rectification_submit(
    *, actor, text: str, inspection: Inspection | None = None, sanction: Sanction | None = None, upload=None
) -> Rectification:
    """整改报告 by the institution, for an inspection being followed up or a 责令整改 in force."""
    if (inspection is None) == (sanction is None):
        raise PeixunError("整改报告须对应一次检查或一项责令整改")
    institution = inspection.institution if inspection else sanction.violation.institution
    if actor.role != Role.INSTITUTION_OPERATOR or actor.organisation_id != institution.organisation_id:
        raise PermissionDeniedError("只有被检查机构可以提交整改报告")
    if inspection is not None and (
        inspection.status != Inspection.Status.FOLLOW_UP or inspection.outcome != Inspection.Outcome.RECTIFY
    ):
        raise TransitionError("该检查没有待整改事项")
    if sanction is not None and (
        sanction.kind != SanctionKind.RECTIFY or sanction.status != Sanction.Status.IN_FORCE
    ):
        raise TransitionError("该处理措施不是执行中的责令整改")
    if not text.strip():
        raise PeixunError("请填写整改情况")
    _check_document(upload, "整改材料")
    sha = _file_sha256(upload)[0] if upload else ""
    with transaction.atomic():
        report = Rectification.objects.create(
            inspection=inspection,
            sanction=sanction,
            text=text.strip(),
            file=upload or "",
            sha256=sha,
            submitted_by=actor,
        )
        audit_record(
            actor=actor,
            action="supervision.rectification.submitted",
            obj=inspection or sanction,
            area=institution.area,
            organisation=institution.organisation,
            after={
                "text": text.strip()[:200],
                "file": report.file.name if report.file else "",
                "sha256": sha,
            },
        )
        if inspection is not None:
            recipients = [i.user for i in inspection.inspectors.exclude(user=None).select_related("user")]
            url = _url("inspection_detail", inspection.pk)
        else:
            recipients = _deciders_over(institution.area)
            url = _url("violation_detail", sanction.violation_id)
        notify(recipients, title=f"{institution.name}提交了整改报告，请复查", url=url)
    return report


def inspection_close(*, inspection: Inspection, actor, note: str) -> Inspection:
    """复查办结: the rectification was checked (or the violation put on file)."""
    spec = move(INSPECTION_MOVES, "close")
    assigned = inspection.inspectors.filter(user=actor).exists()
    if not (has_perm(actor, Perm.INSPECT) and assigned) and not has_perm(actor, Perm.DECIDE_SANCTIONS):
        raise PermissionDeniedError("只有本次检查的检查人员或处理部门可以办结")
    if not visible_inspections(actor).filter(pk=inspection.pk).exists():
        raise PermissionDeniedError("对象不存在或不在您的管辖范围内")
    if not note.strip():
        raise PeixunError("请填写复查意见")
    with transaction.atomic():
        locked = Inspection.objects.select_for_update().get(pk=inspection.pk)
        if locked.status not in spec.source:
            raise TransitionError(f"检查{locked.code}当前状态为“{locked.get_status_display()}”，不能办结")
        if locked.outcome == Inspection.Outcome.VIOLATION and not locked.violations.exists():
            raise TransitionError("检查发现违规，须先立案后才能办结")
        locked.status = Inspection.Status.CLOSED
        locked.closed_at = timezone.now()
        locked.closed_by = actor
        locked.close_note = note.strip()
        locked.save(update_fields=["status", "closed_at", "closed_by", "close_note"])
        audit_record(
            actor=actor,
            action="supervision.inspection.closed",
            obj=locked,
            area=locked.institution.area,
            organisation=locked.institution.organisation,
            before={"status": Inspection.Status.FOLLOW_UP},
            after={"status": locked.status, "reason": locked.close_note},
        )
        notify(
            users_of_organisation(locked.institution.organisation),
            title=f"监督检查{locked.code}已复查办结",
            body=locked.close_note,
            url=_url("inspection_detail", locked.pk),
        )
    inspection.status = locked.status
    return locked


def inspection_publish(*, inspection: Inspection, actor) -> Inspection:
    """一公开: the result of a 双随机 inspection goes on the portal (institution, date, items, outcome)."""
    spec = move(INSPECTION_MOVES, "publish")
    _require(actor, spec.perm, "您无权公开抽查结果")
    _require_in_scope(Inspection, inspection.pk, actor)
    with transaction.atomic():
        locked = Inspection.objects.select_for_update().get(pk=inspection.pk)
        if locked.kind != Inspection.Kind.DRAW:
            raise PeixunError("只有双随机抽查的结果向社会公开")
        if locked.status not in spec.source:
            raise TransitionError("检查结果尚未录入，不能公开")
        if locked.published_at is not None:
            raise TransitionError("该检查结果已公开")
        locked.published_at = timezone.now()
        locked.save(update_fields=["published_at"])
        audit_record(
            actor=actor,
            action="supervision.inspection.published",
            obj=locked,
            area=locked.institution.area,
            organisation=locked.institution.organisation,
            after={"outcome": locked.outcome, "inspected_on": locked.inspected_on},
        )
    return locked


# --- violations, sanctions, recovery (第二十二条) --------------------------------------------------------


def _integrity(*, institution, kind, text, day, violation=None, sanction=None, annual=None) -> None:
    """Append an 诚信记录 for the institution and, where known, its responsible person."""
    v = violation or (sanction.violation if sanction else None)
    IntegrityRecord.objects.create(
        institution=institution,
        person=v.responsible_person if v else None,
        person_name=v.responsible_name if v else "",
        kind=kind,
        text=text[:500],
        recorded_on=day,
        violation=v,
        sanction=sanction,
        annual=annual,
    )


def violation_record(
    *,
    actor,
    institution: Institution,
    type: str,
    description: str,
    found_on: dt.date,
    inspection: Inspection | None = None,
    training_class: TrainingClass | None = None,
    findings=(),
    responsible_name: str = "",
    responsible_role: str = "",
    responsible_id_number: str = "",
) -> Violation:
    """立案: a 第二十二条 behaviour of an institution with its evidence, entered into the integrity
    records of the institution and of its responsible person."""
    _require(actor, Perm.DECIDE_SANCTIONS, "您无权认定违规")
    _require_in_scope(Institution, institution.pk, actor, "该机构不在您的管辖范围内")
    problems = []
    if type not in ViolationType.values:
        problems.append("请选择违规类型")
    if not description.strip():
        problems.append("请填写违规事实")
    if found_on > timezone.localdate():
        problems.append("发现日期不能晚于今天")
    if inspection is not None and inspection.institution_id != institution.pk:
        problems.append("来源检查不是对该机构的检查")
    if training_class is not None and training_class.institution_id != institution.pk:
        problems.append("所选培训班不属于该机构")
    findings = list(findings)
    if any(f.training_class.institution_id != institution.pk for f in findings):
        problems.append("所选问题线索不属于该机构的培训班")
    if responsible_id_number.strip() and not responsible_name.strip():
        problems.append("填写责任人身份证号时须同时填写姓名")
    if problems:
        raise PeixunError("；".join(problems))
    with transaction.atomic():
        person = None
        if responsible_id_number.strip():
            person, _created = person_register(
                id_number=responsible_id_number.strip(), name=responsible_name.strip(), actor=actor
            )
        violation = Violation.objects.create(
            code=next_code("WG", institution.area.code, found_on.year),
            institution=institution,
            training_class=training_class or (inspection.training_class if inspection else None),
            type=type,
            description=description.strip(),
            found_on=found_on,
            inspection=inspection,
            responsible_name=responsible_name.strip(),
            responsible_role=responsible_role.strip(),
            responsible_person=person,
            recorded_by=actor,
        )
        if findings:
            violation.findings.set(findings)
        _integrity(
            institution=institution,
            kind=IntegrityRecord.Kind.VIOLATION,
            text=f"{violation.get_type_display()}：{violation.description}",
            day=found_on,
            violation=violation,
        )
        audit_record(
            actor=actor,
            action="supervision.violation.recorded",
            obj=violation,
            area=institution.area,
            organisation=institution.organisation,
            after={
                "code": violation.code,
                "type": type,
                "found_on": found_on,
                "inspection": inspection.code if inspection else "",
                "findings": len(findings),
                "responsible": responsible_name.strip(),
            },
        )
        notify(
            users_of_organisation(institution.organisation),
            title=f"违规案件{violation.code}：{violation.get_type_display()}",
            body=violation.description,
            url=_url("violation_detail", violation.pk),
            sms=True,
        )
    return violation


def _directory(institution: Institution, transition: str, actor, day: dt.date, reason: str, document_no: str):
    """The directory follows the sanction at once (第二十一条、第二十二条): a suspended or removed
    institution cannot apply to open a class from today."""
    directory_change(
        institution=institution,
        transition=transition,
        actor=actor,
        effective_date=day,
        reason=reason[:300],
        decision_no=document_no,
    )


def sanction_decide(
    *,
    violation: Violation,
    actor,
    kind: str,
    decided_on: dt.date,
    document_no: str,
    content: str,
    effective_to: dt.date | None = None,
    fine_amount: Decimal | None = None,
    document=None,
    recipient: str = "",
) -> Sanction:
    """One rung of the ladder: 约谈, 责令整改, 暂停开班, 移出目录, 行政处罚, 移送司法机关. Suspension and
    removal change the directory in the same transaction; 移送司法机关 sends the clue with its evidence."""
    _require(actor, Perm.DECIDE_SANCTIONS, "您无权决定处理措施")
    _require_in_scope(Violation, violation.pk, actor)
    today = timezone.localdate()
    problems = []
    if kind not in SanctionKind.values:
        problems.append("请选择处理措施")
    if not document_no.strip():
        problems.append("请填写文书编号")
    if not content.strip():
        problems.append("请填写决定内容")
    if decided_on > today:
        problems.append("决定日期不能晚于今天")
    if kind == SanctionKind.RECTIFY and effective_to is None:
        problems.append("责令整改须写明整改期限")
    if effective_to is not None and effective_to < decided_on:
        problems.append("期限不能早于决定日期")
    if fine_amount is not None and (kind != SanctionKind.PENALTY or fine_amount <= 0):
        problems.append("罚款金额只用于行政处罚，且须大于0")
    if kind == SanctionKind.JUDICIAL and not recipient.strip():
        problems.append("移送司法机关须写明接收的公安机关")
    _check_document(document, "决定文书")
    if problems:
        raise PeixunError("；".join(problems))
    sha = _file_sha256(document)[0] if document else ""
    with transaction.atomic():
        locked = Violation.objects.select_for_update().get(pk=violation.pk)
        if locked.status != Violation.Status.OPEN:
            raise TransitionError(f"案件{locked.code}已结案，不能再决定处理措施")
        institution = Institution.objects.select_for_update().get(pk=locked.institution_id)
        reason = f"{SanctionKind(kind).label}：{locked.get_type_display()}（案件{locked.code}）"
        directory_note = ""
        if kind == SanctionKind.SUSPEND:
            if institution.status != Institution.Status.LISTED:
                raise TransitionError(f"机构目录状态为“{institution.get_status_display()}”，不能暂停开班")
            _directory(institution, "suspend", actor, decided_on, reason, document_no.strip())
        elif kind == SanctionKind.REMOVE:
            if institution.status in (Institution.Status.LISTED, Institution.Status.SUSPENDED):
                _directory(institution, "remove", actor, decided_on, reason, document_no.strip())
            else:
                directory_note = f"（机构目录状态已为“{institution.get_status_display()}”）"
        sanction = Sanction.objects.create(
            violation=locked,
            kind=kind,
            decided_on=decided_on,
            effective_from=decided_on,
            effective_to=effective_to,
            document_no=document_no.strip(),
            document=document or "",
            document_sha256=sha,
            content=content.strip() + directory_note,
            fine_amount=fine_amount,
            status=Sanction.Status.DONE if kind in ONE_OFF else Sanction.Status.IN_FORCE,
            ended_on=decided_on if kind in ONE_OFF else None,
            decided_by=actor,
        )
        _integrity(
            institution=institution,
            kind=IntegrityRecord.Kind.SANCTION,
            text=f"{sanction.get_kind_display()}（{sanction.document_no}）：{sanction.content}",
            day=decided_on,
            sanction=sanction,
        )
        audit_record(
            actor=actor,
            action=f"supervision.sanction.{kind.lower()}",
            obj=locked,
            area=institution.area,
            organisation=institution.organisation,
            after={
                "kind": kind,
                "decided_on": decided_on,
                "document_no": sanction.document_no,
                "effective_to": effective_to,
                "amount": fine_amount,
                "sha256": sha,
            },
        )
        if kind == SanctionKind.JUDICIAL:
            clue_transfer_send(
                actor=actor,
                department=Department.PUBLIC_SECURITY,
                recipient=recipient.strip(),
                summary=f"涉嫌犯罪移送：{locked.institution.name}{locked.get_type_display()}。{content.strip()}",
                sent_on=decided_on,
                violation=locked,
                sanction=sanction,
            )
        notify(
            users_of_organisation(institution.organisation),
            title=f"处理决定（{sanction.document_no}）：{sanction.get_kind_display()}",
            body=sanction.content,
            url=_url("violation_detail", locked.pk),
            level="warning",
            sms=True,
        )
        if kind in (SanctionKind.SUSPEND, SanctionKind.REMOVE):
            waiting = TrainingClass.objects.filter(
                institution=institution, status__in=[ClassStatus.OPENING_REVIEW, ClassStatus.OPENING_RETURNED]
            ).count()
            if waiting:
                notify(
                    officials_over(institution.area, (Role.REVIEWER,)),
                    title=f"{institution.name}已{sanction.get_kind_display()}，其{waiting}件开班申请不符合开班条件",
                    url=reverse("training:classes") + f"?q={institution.name}",
                    level="warning",
                )
    return sanction


def sanction_end(*, sanction: Sanction, actor, how: str, ended_on: dt.date, note: str) -> Sanction:
    """执行完毕 (整改到位、罚款缴清、暂停期满) or 解除暂停 — lifting a suspension puts the institution back
    in the directory."""
    spec = move(SANCTION_MOVES, how)
    _require(actor, spec.perm, "您无权变更处理措施")
    _require_in_scope(Sanction, sanction.pk, actor)
    if not note.strip():
        raise PeixunError("请填写执行情况")
    if ended_on > timezone.localdate():
        raise PeixunError("日期不能晚于今天")
    with transaction.atomic():
        locked = Sanction.objects.select_for_update().get(pk=sanction.pk)
        if locked.status not in spec.source:
            raise TransitionError(f"该处理措施当前为“{locked.get_status_display()}”")
        if how == "lift" and locked.kind != SanctionKind.SUSPEND:
            raise TransitionError("只有暂停开班可以解除")
        institution = locked.violation.institution
        if locked.kind == SanctionKind.SUSPEND and institution.status == Institution.Status.SUSPENDED:
            # A suspension that ends (lifted or served) lets the institution open classes again.
            _directory(
                institution, "resume", actor, ended_on, f"{spec.label}：{note.strip()}", locked.document_no
            )
        locked.status = Sanction.Status.LIFTED if how == "lift" else Sanction.Status.DONE
        locked.ended_on = ended_on
        locked.end_note = note.strip()
        locked.save(update_fields=["status", "ended_on", "end_note"])
        audit_record(
            actor=actor,
            action=f"supervision.sanction.{how}",
            obj=locked.violation,
            area=institution.area,
            organisation=institution.organisation,
            before={"status": Sanction.Status.IN_FORCE},
            after={"status": locked.status, "kind": locked.kind, "reason": locked.end_note},
        )
        notify(
            users_of_organisation(institution.organisation),
            title=f"{locked.get_kind_display()}（{locked.document_no}）：{spec.label}",
            body=locked.end_note,
            url=_url("violation_detail", locked.violation_id),
        )
    return locked


def recovery_order(
    *,
    violation: Violation,
    actor,
    lines: list[SubsidyLine],
    ordered_on: dt.date,
    due_date: dt.date,
    document_no: str,
) -> Recovery:
    """追回: the paid subsidy lines obtained through the violation are ordered back."""
    _require(actor, Perm.DECIDE_SANCTIONS, "您无权下达追回决定")
    _require_in_scope(Violation, violation.pk, actor)
    lines = list(lines)
    problems = []
    if not lines:
        problems.append("请选择要追回的补贴明细")
    if not document_no.strip():
        problems.append("请填写追回通知书编号")
    if due_date < ordered_on:
        problems.append("缴回期限不能早于下达日期")
    if ordered_on > timezone.localdate():
        problems.append("下达日期不能晚于今天")
    if problems:
        raise PeixunError("；".join(problems))
    with transaction.atomic():
        locked = Violation.objects.select_for_update().get(pk=violation.pk)
        if locked.status != Violation.Status.OPEN:
            raise TransitionError(f"案件{locked.code}已结案")
        rows = list(
            SubsidyLine.objects.select_for_update()
            .filter(pk__in=[line.pk for line in lines])
            .select_related("application", "person")
        )
        bad = [
            f"{r.application.code} {r.person.name}"
            for r in rows
            if r.status != SubsidyLine.Status.PAID or r.application.institution_id != locked.institution_id
        ]
        if bad or len(rows) != len(lines):
            raise PeixunError("只能追回该机构已拨付的补贴：" + "、".join(bad))
        taken = Recovery.objects.filter(lines__in=rows).values_list("lines__application__code", flat=True)
        if taken.exists():
            raise PeixunError("以下补贴已在其他追回决定中：" + "、".join(sorted(set(taken))))
        amount = sum((r.amount for r in rows), Decimal("0"))
        recovery = Recovery.objects.create(
            violation=locked,
            amount_due=amount,
            ordered_on=ordered_on,
            due_date=due_date,
            document_no=document_no.strip(),
            ordered_by=actor,
        )
        recovery.lines.set(rows)
        _integrity(
            institution=locked.institution,
            kind=IntegrityRecord.Kind.RECOVERY,
            text=f"追回已拨付补贴¥{amount:,.2f}（{recovery.document_no}，{len(rows)}人）",
            day=ordered_on,
            violation=locked,
        )
        audit_record(
            actor=actor,
            action="supervision.recovery.ordered",
            obj=locked,
            area=locked.institution.area,
            organisation=locked.institution.organisation,
            after={
                "document_no": recovery.document_no,
                "amount": amount,
                "lines": len(rows),
                "recovery_due": due_date,
            },
        )
        notify(
            users_of_organisation(locked.institution.organisation),
            title=f"追回通知（{recovery.document_no}）：请于{due_date}前缴回补贴¥{amount:,.2f}",
            url=_url("violation_detail", locked.pk),
            level="warning",
            sms=True,
        )
    return recovery


def recovery_receive(
    *, recovery: Recovery, actor, amount: Decimal, received_on: dt.date, voucher_no: str
) -> Recovery:
    """到账: one payment back; the recovery is complete when the receipts reach the amount due."""
    spec = move(RECOVERY_MOVES, "receive")
    _require(actor, spec.perm, "您无权登记追回资金")
    _require_in_scope(Recovery, recovery.pk, actor)
    amount = Decimal(amount)
    if amount <= 0:
        raise PeixunError("到账金额须大于0")
    if not voucher_no.strip():
        raise PeixunError("请填写缴款凭证号")
    if received_on > timezone.localdate():
        raise PeixunError("到账日期不能晚于今天")
    with transaction.atomic():
        locked = Recovery.objects.select_for_update().get(pk=recovery.pk)
        if locked.status not in spec.source:
            raise TransitionError("该追回已全额到账")
        if received_on < locked.ordered_on:
            raise PeixunError("到账日期不能早于追回决定下达日期")
        if amount > locked.outstanding:
            raise PeixunError(f"到账金额超过尚未追回的¥{locked.outstanding:,.2f}")
        if RecoveryReceipt.objects.filter(voucher_no=voucher_no.strip()).exists():
            raise PeixunError(f"缴款凭证号{voucher_no.strip()}已登记")
        RecoveryReceipt.objects.create(
            recovery=locked,
            amount=amount,
            received_on=received_on,
            voucher_no=voucher_no.strip(),
            recorded_by=actor,
        )
        before = locked.status
        locked.amount_recovered = locked.receipts.aggregate(s=Sum("amount"))["s"] or Decimal("0")
        if locked.amount_recovered >= locked.amount_due:
            locked.status, locked.completed_on = Recovery.Status.COMPLETED, received_on
        else:
            locked.status = Recovery.Status.PARTIAL
        locked.save(update_fields=["amount_recovered", "status", "completed_on"])
        institution = locked.violation.institution
        audit_record(
            actor=actor,
            action="supervision.recovery.received",
            obj=locked.violation,
            area=institution.area,
            organisation=institution.organisation,
            before={"status": before},
            after={
                "status": locked.status,
                "amount": amount,
                "voucher_no": voucher_no.strip(),
                "received_on": received_on,
            },
        )
        if locked.status == Recovery.Status.COMPLETED:
            notify(
                _deciders_over(institution.area),
                title=f"追回{locked.document_no}已全额到账（¥{locked.amount_due:,.2f}），案件{locked.violation.code}可结案",
                url=_url("violation_detail", locked.violation_id),
            )
    return locked


def violation_close_problems(violation: Violation) -> list[str]:
    problems = []
    sanctions = list(violation.sanctions.all())
    if not sanctions:
        problems.append("尚未决定任何处理措施")
    if any(s.status == Sanction.Status.IN_FORCE for s in sanctions):
        problems.append("尚有执行中的处理措施（整改、暂停或处罚未执行完毕）")
    if violation.type in REMOVAL_REQUIRED and not any(s.kind == SanctionKind.REMOVE for s in sanctions):
        problems.append("第二十二条：该类违规应将机构移出政府补贴性培训机构目录")
    if violation.recoveries.exclude(status=Recovery.Status.COMPLETED).exists():
        problems.append("尚有未全额追回的补贴资金")
    return problems


def violation_close(*, violation: Violation, actor, note: str) -> Violation:
    spec = move(VIOLATION_MOVES, "close")
    _require(actor, spec.perm, "您无权结案")
    _require_in_scope(Violation, violation.pk, actor)
    with transaction.atomic():
        locked = Violation.objects.select_for_update().get(pk=violation.pk)
        if locked.status not in spec.source:
            raise TransitionError(f"案件{locked.code}已结案")
        problems = violation_close_problems(locked)
        if problems:
            raise TransitionError("不能结案：" + "；".join(problems))
        locked.status = Violation.Status.CLOSED
        locked.closed_at = timezone.now()
        locked.close_note = note.strip()[:500]
        locked.save(update_fields=["status", "closed_at", "close_note"])
        audit_record(
            actor=actor,
            action="supervision.violation.closed",
            obj=locked,
            area=locked.institution.area,
            organisation=locked.institution.organisation,
            before={"status": Violation.Status.OPEN},
            after={"status": locked.status, "reason": locked.close_note},
        )
    return locked


# --- annual inspection (第二十条) -----------------------------------------------------------------------


def annual_inspection_decide(
    *, institution: Institution, year: int, actor, result: str, reasons: str
) -> AnnualInspection:
    """年度检查: 合格 or 不合格 for one year. 组织或代替培训对象刷课的培训机构，在年度检查中确定为不合格
    (第二十条) — a 合格 is refused while such evidence stands."""
    _require(actor, Perm.DECIDE_SANCTIONS, "您无权作出年度检查结论")
    _require_in_scope(Institution, institution.pk, actor, "该机构不在您的管辖范围内")
    today = timezone.localdate()
    if year > today.year:
        raise PeixunError("不能对尚未开始的年度作出年度检查结论")
    if result not in AnnualInspection.Result.values:
        raise PeixunError("请选择年度检查结论")
    if not reasons.strip():
        raise PeixunError("请填写结论依据")
    brushing = brushing_evidence(institution, year)
    if result == AnnualInspection.Result.PASS and brushing:
        raise TransitionError(
            "组织或代替培训对象刷课的培训机构，在年度检查中确定为不合格（第二十条）：" + "；".join(brushing)
        )
    with transaction.atomic():
        Institution.objects.select_for_update().get(pk=institution.pk)
        if AnnualInspection.objects.filter(institution=institution, year=year).exists():
            raise TransitionError(f"{institution.name}{year}年度检查已有结论")
        annual = AnnualInspection.objects.create(
            institution=institution,
            year=year,
            result=result,
            reasons=reasons.strip(),
            basis=annual_facts(institution, year),
            decided_on=today,
            decided_by=actor,
        )
        if result == AnnualInspection.Result.FAIL:
            IntegrityRecord.objects.create(
                institution=institution,
                kind=IntegrityRecord.Kind.ANNUAL_FAIL,
                text=f"{year}年度检查不合格：{annual.reasons}"[:500],
                recorded_on=today,
                annual=annual,
            )
        audit_record(
            actor=actor,
            action="supervision.annual.decided",
            obj=annual,
            area=institution.area,
            organisation=institution.organisation,
            after={"year": year, "conclusion": result, "reason": annual.reasons},
        )
        notify(
            users_of_organisation(institution.organisation),
            title=f"{year}年度检查结论：{annual.get_result_display()}",
            body=annual.reasons,
            url=_url("integrity_detail", institution.pk),
            sms=result == AnnualInspection.Result.FAIL,
        )
    return annual


# --- hand-over (第二十五条) ---------------------------------------------------------------------------


def clue_transfer_send(
    *,
    actor,
    department: str,
    recipient: str,
    summary: str,
    sent_on: dt.date,
    institution: Institution | None = None,
    violation: Violation | None = None,
    sanction: Sanction | None = None,
    attachments=(),
) -> ClueTransfer:
    """线索移送 to 网信、公安、市场监管 …: the evidence ZIP (with manifest and hashes) is built now and kept
    as sent."""
    _require(actor, Perm.HAND_OVER, "您无权移送线索")
    org = _official_org(actor)
    if violation is not None:
        _require_in_scope(Violation, violation.pk, actor)
        institution = institution or violation.institution
    if institution is not None:
        _require_in_scope(Institution, institution.pk, actor, "该机构不在您的管辖范围内")
    problems = []
    if department not in Department.values:
        problems.append("请选择接收部门")
    if not recipient.strip():
        problems.append("请填写接收单位")
    if not summary.strip():
        problems.append("请填写移送内容")
    if sent_on > timezone.localdate():
        problems.append("移送日期不能晚于今天")
    for upload in attachments:
        if upload.size > DOCUMENT_MAX_BYTES:
            problems.append(f"附件“{upload.name}”超过10MB")
    if problems:
        raise PeixunError("；".join(problems))
    with transaction.atomic():
        code = next_code("YS", org.area.code, sent_on.year)
        cover = "\n".join(
            [
                f"移送编号：{code}",
                f"移送单位：{org.name}",
                f"接收单位：{recipient.strip()}（{Department(department).label}）",
                f"移送日期：{sent_on:%Y年%-m月%-d日}",
                f"涉及机构：{institution.name if institution else '—'}",
                f"违规案件：{violation.code + ' ' + violation.get_type_display() if violation else '—'}",
                "",
                "移送内容：",
                summary.strip(),
                "",
                "依据：《内蒙古自治区职业技能培训管理办法》第二十五条。证据清单见 manifest.csv，其SHA-256见 manifest.sha256。",
            ]
        )
        evidence = build_evidence(
            code=code, cover=cover, institution=institution, violation=violation, attachments=attachments
        )
        clue = ClueTransfer(
            code=code,
            area=org.area,
            organisation=org,
            department=department,
            recipient=recipient.strip(),
            institution=institution,
            violation=violation,
            sanction=sanction,
            summary=summary.strip(),
            sent_on=sent_on,
            sent_by=actor,
            evidence_sha256=evidence.sha256,
            manifest_sha256=evidence.manifest_sha256,
            evidence_files=evidence.files,
        )
        clue.evidence.save(f"{code}.zip", ContentFile(evidence.content), save=False)
        clue.save()
        audit_record(
            actor=actor,
            action="supervision.clue.sent",
            obj=clue,
            area=org.area,
            organisation=org,
            after={
                "code": code,
                "department": department,
                "recipient": clue.recipient,
                "sent_on": sent_on,
                "sha256": evidence.sha256,
                "manifest_sha256": evidence.manifest_sha256,
                "files": evidence.files,
            },
        )
    return clue


def clue_transfer_reply(*, clue: ClueTransfer, actor, reply_on: dt.date, reply: str) -> ClueTransfer:
    spec = move(CLUE_MOVES, "reply")
    _require(actor, spec.perm, "您无权登记移送回复")
    _require_in_scope(ClueTransfer, clue.pk, actor)
    if not reply.strip():
        raise PeixunError("请填写回复内容")
    if reply_on > timezone.localdate():
        raise PeixunError("回复日期不能晚于今天")
    with transaction.atomic():
        locked = ClueTransfer.objects.select_for_update().get(pk=clue.pk)
        if locked.status not in spec.source:
            raise TransitionError(f"移送{locked.code}当前为“{locked.get_status_display()}”")
        if reply_on < locked.sent_on:
            raise PeixunError("回复日期不能早于移送日期")
        locked.status, locked.reply_on, locked.reply = ClueTransfer.Status.REPLIED, reply_on, reply.strip()
        locked.save(update_fields=["status", "reply_on", "reply"])
        audit_record(
            actor=actor,
            action="supervision.clue.replied",
            obj=locked,
            area=locked.area,
            before={"status": ClueTransfer.Status.SENT},
            after={"status": locked.status, "reply_on": reply_on},
        )
    return locked


def clue_transfer_close(*, clue: ClueTransfer, actor, closed_on: dt.date, outcome: str) -> ClueTransfer:
    spec = move(CLUE_MOVES, "close")
    _require(actor, spec.perm, "您无权办结线索移送")
    _require_in_scope(ClueTransfer, clue.pk, actor)
    if not outcome.strip():
        raise PeixunError("请填写处理结果")
    with transaction.atomic():
        locked = ClueTransfer.objects.select_for_update().get(pk=clue.pk)
        if locked.status not in spec.source:
            raise TransitionError(f"移送{locked.code}已办结")
        before = locked.status
        locked.status, locked.closed_on, locked.outcome = (
            ClueTransfer.Status.CLOSED,
            closed_on,
            outcome.strip(),
        )
        locked.save(update_fields=["status", "closed_on", "outcome"])
        audit_record(
            actor=actor,
            action="supervision.clue.closed",
            obj=locked,
            area=locked.area,
            before={"status": before},
            after={"status": locked.status, "conclusion": locked.outcome},
        )
    return locked


def clue_evidence_downloaded(*, clue: ClueTransfer, actor, ip: str | None) -> None:
    """The package holds masked personal data: each download is logged and audited."""
    from peixun.core.models import PersonAccessLog

    with transaction.atomic():
        PersonAccessLog.objects.create(
            viewer=actor,
            person=None,
            kind=PersonAccessLog.Kind.EXPORT,
            detail=f"下载线索移送证据包：{clue.code}",
            ip=ip,
        )
        audit_record(
            actor=actor,
            action="supervision.clue.evidence_downloaded",
            obj=clue,
            area=clue.area,
            after={"sha256": clue.evidence_sha256},
        )


def joint_enforcement_record(
    *,
    actor,
    held_on: dt.date,
    departments: list[str],
    partner_units: str,
    place: str,
    summary: str,
    institutions=(),
    outcome: str = "",
) -> JointEnforcement:
    """联合执法 (第二十五条): one joint action with other departments."""
    _require(actor, Perm.HAND_OVER, "您无权登记联合执法")
    org = _official_org(actor)
    institutions = list(institutions)
    problems = []
    if not departments or any(d not in Department.values for d in departments):
        problems.append("请选择参加部门")
    if not partner_units.strip():
        problems.append("请填写参加单位")
    if not place.strip():
        problems.append("请填写地点")
    if not summary.strip():
        problems.append("请填写执法情况")
    if held_on > timezone.localdate():
        problems.append("执法日期不能晚于今天")
    outside = [i for i in institutions if not restrict(Institution.objects.filter(pk=i.pk), actor).exists()]
    if outside:
        problems.append("以下机构不在您的管辖范围内：" + "、".join(i.name for i in outside))
    if problems:
        raise PeixunError("；".join(problems))
    with transaction.atomic():
        record = JointEnforcement.objects.create(
            area=org.area,
            organisation=org,
            held_on=held_on,
            departments=[d for d in Department.values if d in set(departments)],
            partner_units=partner_units.strip(),
            place=place.strip(),
            summary=summary.strip(),
            outcome=outcome.strip(),
            recorded_by=actor,
        )
        record.institutions.set(institutions)
        audit_record(
            actor=actor,
            action="supervision.joint.recorded",
            obj=record,
            area=org.area,
            organisation=org,
            after={
                "held_on": held_on,
                "departments": [str(Department(d).label) for d in record.departments],
                "institutions": [i.name for i in institutions],
            },
        )
    return record


# --- staff training (第二十四条) ------------------------------------------------------------------------


def staff_training_record(
    *,
    actor,
    title: str,
    topic: str,
    held_on: dt.date,
    hours: Decimal,
    form: str,
    attendees,
    teacher: str = "",
    notes: str = "",
) -> StaffTraining:
    _require(actor, Perm.MANAGE_STAFF_TRAINING, "您无权登记经办人员培训")
    org = _official_org(actor)
    attendees = list(attendees)
    problems = []
    if not title.strip():
        problems.append("请填写培训主题")
    if topic not in StaffTraining.Topic.values:
        problems.append("请选择类别")
    if hours is None or Decimal(hours) <= 0:
        problems.append("学时须大于0")
    if not attendees:
        problems.append("请选择参训人员")
    if held_on > timezone.localdate():
        problems.append("培训日期不能晚于今天")
    staff = set(
        restrict(User.objects.filter(pk__in=[u.pk for u in attendees]), actor).values_list("pk", flat=True)
    )
    outside = [
        u for u in attendees if u.pk not in staff or not u.organisation or not u.organisation.is_government
    ]
    if outside:
        problems.append(
            "参训人员须为本地区人社部门工作人员：" + "、".join(u.get_full_name() for u in outside)
        )
    if problems:
        raise PeixunError("；".join(problems))
    with transaction.atomic():
        record = StaffTraining.objects.create(
            area=org.area,
            organisation=org,
            title=title.strip(),
            topic=topic,
            held_on=held_on,
            hours=Decimal(hours),
            form=form.strip(),
            teacher=teacher.strip(),
            notes=notes.strip(),
            recorded_by=actor,
        )
        record.attendees.set(attendees)
        audit_record(
            actor=actor,
            action="supervision.staff_training.recorded",
            obj=record,
            area=org.area,
            organisation=org,
            after={"title": record.title, "held_on": held_on, "headcount": len(attendees)},
        )
    return record


def findings_of_institution(institution: Institution):
    return Finding.objects.filter(training_class__institution=institution).select_related(
        "training_class", "person"
    )
