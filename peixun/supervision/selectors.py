"""Reads of the supervision app: the facts a draw, a credit rating or an annual inspection is computed
from (loaded here, judged by the pure functions of draw.py and rating.py), and what each user or the
public may see."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from decimal import Decimal

from django.core.exceptions import FieldError
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from peixun.accounts.models import User
from peixun.accounts.roles import OFFICIAL_ROLES, Perm, Role, has_perm
from peixun.accounts.scope import areas_covered, restrict
from peixun.checks.models import Finding
from peixun.core.models import Area
from peixun.institutions.models import Institution
from peixun.training.models import ClassStatus, Enrollment, TrainingClass

from . import draw as algo
from .models import AnnualInspection, Conflict, Draw, Inspection, Inspector, Violation, ViolationType
from .rating import WINDOW_DAYS, CreditFacts, CreditRating, credit_rating

logger = logging.getLogger(__name__)

# Confirmed findings of these rules are 刷课 (第二十条): an institution with one fails its annual inspection.
BRUSHING_RULES = frozenset({"ONLINE_CONCURRENT", "ONLINE_IP_FARM"})
# Findings that count for risk, as on the 机构风险 page: not dismissed, still current.
RISK_STATUSES = (Finding.Status.OPEN, Finding.Status.CONFIRMED)


def is_official(user) -> bool:
    return user.is_authenticated and user.role in OFFICIAL_ROLES


# --- risk (findings per 100 trainees) ----------------------------------------------------------------


def _per100(findings: int, trainees: int) -> Decimal | None:
    if not trainees:
        return None
    return (Decimal(findings) * 100 / trainees).quantize(Decimal("0.01"))


def institution_risk(institution_ids) -> dict[int, Decimal | None]:
    """Current, undismissed findings per 100 enrolments of each institution (机构风险)."""
    ids = list(institution_ids)
    trainees = dict(
        Enrollment.objects.filter(training_class__institution_id__in=ids)
        .values_list("training_class__institution_id")
        .annotate(n=Count("pk"))
    )
    findings = dict(
        Finding.objects.filter(
            training_class__institution_id__in=ids, is_current=True, status__in=RISK_STATUSES
        )
        .values_list("training_class__institution_id")
        .annotate(n=Count("pk"))
    )
    return {i: _per100(findings.get(i, 0), trainees.get(i, 0)) for i in ids}


def class_risk(class_ids) -> dict[int, Decimal | None]:
    ids = list(class_ids)
    trainees = dict(
        Enrollment.objects.filter(training_class_id__in=ids)
        .values_list("training_class_id")
        .annotate(n=Count("pk"))
    )
    findings = dict(
        Finding.objects.filter(training_class_id__in=ids, is_current=True, status__in=RISK_STATUSES)
        .values_list("training_class_id")
        .annotate(n=Count("pk"))
    )
    return {i: _per100(findings.get(i, 0), trainees.get(i, 0)) for i in ids}


# --- the pools of a draw ------------------------------------------------------------------------------


def target_candidates(area: Area, target_kind: str, on_date: dt.date) -> list:
    """Listed institutions of the area, or its classes in training (approved, not yet ended)."""
    covered = areas_covered(area)
    if target_kind == Draw.TargetKind.INSTITUTION:
        return list(
            Institution.objects.filter(status=Institution.Status.LISTED, area_id__in=covered)
            .select_related("area")
            .order_by("pk")
        )
    return list(
        TrainingClass.objects.filter(status=ClassStatus.APPROVED, area_id__in=covered, end_date__gte=on_date)
        .select_related("institution", "area")
        .order_by("pk")
    )


def pool_inspectors(area: Area) -> list[Inspector]:
    return list(
        Inspector.objects.filter(active=True, organisation__area_id__in=areas_covered(area))
        .filter(Q(user__isnull=True) | Q(user__is_active=True, user__role=Role.INSPECTOR))
        .select_related("organisation__area")
        .order_by("pk")
    )


def pool_facts(
    *, area: Area, target_kind: str, on_date: dt.date, stratify: bool, threshold: Decimal | None
) -> tuple[list[algo.Target], list[algo.PoolInspector], list[tuple[str, str]]]:
    candidates = target_candidates(area, target_kind, on_date)
    if target_kind == Draw.TargetKind.INSTITUTION:
        risks = institution_risk(c.pk for c in candidates)
        targets = [
            algo.Target(
                key=f"I{c.pk}",
                name=c.name,
                organisation=f"O{c.organisation_id}",
                area=c.area.code,
                risk=risks[c.pk],
                stratum=algo.stratum_of(risks[c.pk], stratify=stratify, threshold=threshold),
            )
            for c in candidates
        ]
        institution_of = {f"I{c.pk}": c.pk for c in candidates}
    else:
        risks = class_risk(c.pk for c in candidates)
        targets = [
            algo.Target(
                key=f"C{c.pk}",
                name=f"{c.code} {c.institution.name} {c.occupation_name}",
                organisation=f"O{c.institution.organisation_id}",
                area=c.area.code,
                risk=risks[c.pk],
                stratum=algo.stratum_of(risks[c.pk], stratify=stratify, threshold=threshold),
            )
            for c in candidates
        ]
        institution_of = {f"C{c.pk}": c.institution_id for c in candidates}
    inspectors = pool_inspectors(area)
    people = [
        algo.PoolInspector(
            key=i.key,
            name=i.name,
            organisation=f"O{i.organisation_id}",
            organisation_name=i.organisation.name,
            area=i.organisation.area.code,
        )
        for i in inspectors
    ]
    declared = Conflict.objects.filter(
        withdrawn_at__isnull=True, inspector__in=inspectors, institution_id__in=set(institution_of.values())
    ).values_list("inspector_id", "institution_id")
    by_institution = defaultdict(list)
    for key, institution_id in institution_of.items():
        by_institution[institution_id].append(key)
    conflicts = [(f"P{p}", key) for p, inst in declared for key in by_institution[inst]]
    return targets, people, conflicts


# --- what a user may see --------------------------------------------------------------------------------


def visible_inspections(user) -> QuerySet:
    """Inspections in the user's scope. A planned inspection is known only to its organisers and its
    inspectors — never to the institution, nor to reviewers who deal with it daily (unannounced
    means unannounced). A region-wide draw may send an inspector to another city: what they are
    assigned to, they see."""
    qs = restrict(Inspection.objects.all(), user)
    if has_perm(user, Perm.MANAGE_DRAWS):
        return qs
    recorded = qs.exclude(status=Inspection.Status.PLANNED)
    if user.is_authenticated and user.role == Role.INSPECTOR:
        return Inspection.objects.filter(
            Q(pk__in=recorded.values("pk")) | Q(pk__in=assigned_to(user).values("pk"))
        )
    return recorded


def assigned_to(user) -> QuerySet:
    return Inspection.objects.filter(inspectors__user=user)


def visible_draws(user) -> QuerySet:
    if not is_official(user):
        return Draw.objects.none()
    return restrict(Draw.objects.all(), user)


def inspector_of(user) -> Inspector | None:
    if not user.is_authenticated or user.role != Role.INSPECTOR:
        return None
    return Inspector.objects.filter(user=user).first()


# --- public (一公开) ------------------------------------------------------------------------------------


def public_inspections(today: dt.date | None = None) -> QuerySet:
    """Results of 双随机 inspections that are public: published, or past their publication deadline
    (the deadline publishes them even if nobody pressed the button)."""
    today = today or timezone.localdate()
    return (
        Inspection.objects.filter(kind=Inspection.Kind.DRAW)
        .exclude(status=Inspection.Status.PLANNED)
        .filter(Q(published_at__isnull=False) | Q(publish_by__lt=today))
    )


def draw_revealed(draw: Draw, today: dt.date | None = None) -> bool:
    """The seed, the pools and the drawn targets are public once every inspection of the draw is
    public, or the day after the inspection period ends — not before, or the checks would be announced."""
    if draw.status != Draw.Status.DRAWN:
        return False
    today = today or timezone.localdate()
    if today > draw.inspection_due:
        return True
    inspections = Inspection.objects.filter(draw_target__draw=draw)
    total = inspections.count()
    return total > 0 and public_inspections(today).filter(draw_target__draw=draw).count() == total


# --- credit rating and annual inspection ----------------------------------------------------------------


def credit_facts_bulk(institution_ids, as_of: dt.date) -> dict[int, CreditFacts]:
    ids = list(institution_ids)
    since = as_of - dt.timedelta(days=WINDOW_DAYS)
    violations = defaultdict(list)
    for inst, type_, found in Violation.objects.filter(
        institution_id__in=ids, found_on__gt=since, found_on__lte=as_of
    ).values_list("institution_id", "type", "found_on"):
        violations[inst].append((type_, found))
    inspections = defaultdict(list)
    for inst, outcome, day in (
        Inspection.objects.filter(institution_id__in=ids, inspected_on__gt=since, inspected_on__lte=as_of)
        .exclude(outcome="")
        .values_list("institution_id", "outcome", "inspected_on")
    ):
        inspections[inst].append((outcome, day))
    fails = defaultdict(list)
    for inst, day in AnnualInspection.objects.filter(
        institution_id__in=ids,
        result=AnnualInspection.Result.FAIL,
        decided_on__gt=since,
        decided_on__lte=as_of,
    ).values_list("institution_id", "decided_on"):
        fails[inst].append(day)
    trainees = dict(
        Enrollment.objects.filter(training_class__institution_id__in=ids)
        .values_list("training_class__institution_id")
        .annotate(n=Count("pk"))
    )
    confirmed = dict(
        Finding.objects.filter(
            training_class__institution_id__in=ids, is_current=True, status=Finding.Status.CONFIRMED
        )
        .values_list("training_class__institution_id")
        .annotate(n=Count("pk"))
    )
    employment = _employment_rates(ids, as_of)
    return {
        i: CreditFacts(
            as_of=as_of,
            employment_rate=employment.get(i),
            violations=tuple(violations[i]),
            confirmed_findings=confirmed.get(i, 0),
            trainees=trainees.get(i, 0),
            inspections=tuple(inspections[i]),
            annual_fails=tuple(fails[i]),
        )
        for i in ids
    }


# Below this many trainees due for the 6-month follow-up, a rate says little about an institution.
EMPLOYMENT_MIN_DUE = 10


def _employment_rates(ids, as_of: dt.date) -> dict[int, Decimal]:
    """The 6-month employment rate after training (就业跟踪, reports app) over the rating window."""
    from peixun.reports.employment import employment_rate
    from peixun.reports.models import ClassMonthFact

    since = as_of - dt.timedelta(days=WINDOW_DAYS)
    try:
        rows = list(
            ClassMonthFact.objects.filter(institution_id__in=ids, year__gte=since.year, year__lte=as_of.year)
            .values("institution_id")
            .annotate(due=Sum("emp6_due"), employed=Sum("emp6_employed"), study=Sum("emp6_study"))
        )
    except FieldError:
        # the statistics tables belong to the reports app and may change shape; rate without them
        logger.exception("credit rating: employment facts left out")
        return {}
    rates = {}
    for r in rows:
        if (r["due"] or 0) >= EMPLOYMENT_MIN_DUE:
            value = employment_rate(
                employed=r["employed"] or 0, reached=r["due"], further_study=r["study"] or 0
            )
            if value is not None:
                rates[r["institution_id"]] = value
    return rates


def institution_rating(institution: Institution, as_of: dt.date | None = None) -> CreditRating:
    as_of = as_of or timezone.localdate()
    return credit_rating(credit_facts_bulk([institution.pk], as_of)[institution.pk])


def brushing_evidence(institution: Institution, year: int) -> list[str]:
    """What shows the institution organised or did 刷课 in `year` (第二十条), in Chinese."""
    evidence = [
        f"违规案件{v.code}（{v.found_on:%Y-%m-%d}）：{v.get_type_display()}"
        for v in Violation.objects.filter(
            institution=institution, type=ViolationType.COURSE_BRUSHING, found_on__year=year
        )
    ]
    findings = (
        Finding.objects.filter(
            training_class__institution=institution,
            training_class__start_date__year=year,
            rule_code__in=BRUSHING_RULES,
            status=Finding.Status.CONFIRMED,
        )
        .values("training_class__code")
        .annotate(n=Count("pk"))
        .order_by("training_class__code")
    )
    evidence += [f"培训班{f['training_class__code']}已确认刷课问题线索{f['n']}条" for f in findings]
    return evidence


def annual_facts(institution: Institution, year: int) -> dict:
    """What the annual inspection of `year` looks at, frozen into its record when decided."""
    end = dt.date(year, 12, 31)
    rating = institution_rating(institution, min(end, timezone.localdate()))
    violations = list(Violation.objects.filter(institution=institution, found_on__year=year))
    inspections = Inspection.objects.filter(institution=institution, inspected_on__year=year)
    return {
        "year": year,
        "violations": len(violations),
        "violation_types": sorted({v.get_type_display() for v in violations}),
        "inspections": inspections.count(),
        "inspections_rectify": inspections.filter(outcome=Inspection.Outcome.RECTIFY).count(),
        "brushing": brushing_evidence(institution, year),
        "score": rating.score,
        "grade": rating.grade,
    }


def inspector_users_in(area: Area) -> QuerySet:
    return User.objects.filter(
        role=Role.INSPECTOR, is_active=True, organisation__area_id__in=areas_covered(area)
    ).select_related("organisation")
