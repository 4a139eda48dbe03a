"""Keeps the employment outcomes and the fact tables in step with what happened (docs/decisions/0006).

The unit of work is a class: its employment outcomes and its `ClassMonthFact` rows are recomputed
whole, then the `AreaMonthFact` rows of the areas and occupations it touches are summed again from
`ClassMonthFact`. Which classes changed is read from the audit chain — every lifecycle, roster, exam,
certificate and subsidy step appends an entry naming its object — starting after the last entry the
previous refresh saw; classes whose checkpoints (or an imported class's end) fell due since the last
refresh are added. A data package or a new employment registry makes the next refresh a full one.

`stats_refresh()` runs under the lock of the single `StatsState` row, so two refreshes (the nightly
command and a page catching up) take turns instead of writing the same rows twice.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Sum
from django.utils import timezone

from peixun.checks.models import RegistryRow
from peixun.core.models import Area, AuditChainHead, AuditEntry
from peixun.subsidies.models import SubsidyApplication, SubsidyLine
from peixun.training.models import ClassStatus, Enrollment, ExamResult, Review, TrainingClass

from . import employment as rules
from .models import (
    AreaMonthFact,
    AreaTotalFact,
    ClassMonthFact,
    EmploymentOutcome,
    FactMeasures,
    FollowUp,
    InstitutionYearFact,
    StatsState,
)

# Classes that ran (or are running): their trainees count. Drafts, refused and withdrawn ones do not.
RUNNING = (
    ClassStatus.APPROVED,
    ClassStatus.COMPLETION_REVIEW,
    ClassStatus.COMPLETION_RETURNED,
    ClassStatus.COMPLETION_REJECTED,
    ClassStatus.COMPLETED,
    ClassStatus.IMPORTED,
)
# Classes whose trainees can have completed (see employment.py).
COMPLETING = (ClassStatus.COMPLETED, ClassStatus.IMPORTED)
APPROVED_LINES = (
    SubsidyLine.Status.NOTICE,
    SubsidyLine.Status.SUSPENDED,
    SubsidyLine.Status.PAYABLE,
    SubsidyLine.Status.PAID,
)
BATCH = 200
IN_CHUNK = 900  # SQLite's old limit on bound parameters per statement
# Audit actions after which every class is recomputed.
FULL_ACTIONS = frozenset({"package.imported"})
# More changes than this are left to the nightly run (or the 立即更新 button) instead of a page view.
INLINE_LIMIT = 300


def chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- areas ------------------------------------------------------------------------------------------


class AreaIndex:
    """Each area's city-level area (盟市, 满洲里市, 二连浩特市): the region's 14 columns."""

    def __init__(self):
        self.areas = {a.id: a for a in Area.objects.all()}

    def city_of(self, area_id: int) -> int:
        area = self.areas[area_id]
        while not area.is_city_level and area.kind != Area.Kind.REGION and area.parent_id:
            area = self.areas[area.parent_id]
        return area.id


# --- employment outcomes ----------------------------------------------------------------------------


def _sat_exam():
    return ExamResult.objects.filter(training_class=OuterRef("training_class"), person=OuterRef("person"))


def completed_enrollments(class_ids: Iterable[int]):
    """Trainees who completed (employment.py): on the roster of a COMPLETED or IMPORTED class, exam sat."""
    return Enrollment.objects.filter(
        training_class_id__in=list(class_ids),
        removed_at__isnull=True,
        training_class__status__in=COMPLETING,
    ).filter(Exists(_sat_exam()))


def load_periods(hmacs: Iterable[str]) -> tuple[dict[str, list[rules.Period]], dict[str, str]]:
    """Employment periods by person, and employer names by code (an employment filing names none)."""
    periods: dict[str, list[rules.Period]] = defaultdict(list)
    names: dict[str, str] = {}
    for part in chunks(sorted(set(hmacs)), IN_CHUNK):
        rows = RegistryRow.objects.filter(kind__in=rules.REGISTRY_KINDS, id_hmac__in=part).values_list(
            "id_hmac", "kind", "date_from", "date_to", "org_code", "org_name"
        )
        for hmac, kind, date_from, date_to, code, name in rows:
            periods[hmac].append(rules.Period(kind, date_from, date_to, code, name))
            if code and name:
                names.setdefault(code, name)
    unnamed = {p.org_code for ps in periods.values() for p in ps if p.org_code and p.org_code not in names}
    for part in chunks(sorted(unnamed), IN_CHUNK):
        found = (
            RegistryRow.objects.filter(kind=rules.SOCIAL_INSURANCE, org_code__in=part)
            .exclude(org_name="")
            .values_list("org_code", "org_name")
            .distinct()
        )
        for code, name in found:
            names.setdefault(code, name)
    return periods, names


def outcomes_for(class_ids: Sequence[int], *, today: dt.date) -> list[EmploymentOutcome]:
    """The employment outcomes of the classes' completed trainees at the checkpoints reached."""
    first = rules.CHECKPOINTS[0]
    people = [
        row
        for row in completed_enrollments(class_ids).values_list(
            "id", "training_class_id", "person__id_hmac", "training_class__end_date"
        )
        if rules.checkpoint_date(row[3], first) <= today
    ]
    if not people:
        return []
    periods, names = load_periods(row[2] for row in people)
    manual: dict[tuple[int, int], rules.Manual] = {}
    for part in chunks([row[0] for row in people], IN_CHUNK):
        for f in FollowUp.objects.filter(enrollment_id__in=part).values(
            "id", "enrollment_id", "checkpoint", "outcome", "employer_name", "employed_since"
        ):
            manual[(f["enrollment_id"], f["checkpoint"])] = rules.Manual(
                f["id"], f["checkpoint"], f["outcome"], f["employer_name"], f["employed_since"]
            )
    outcomes = []
    for enrollment_id, class_id, hmac, completed_on in people:
        for checkpoint in rules.CHECKPOINTS:
            j = rules.judge(
                completed_on=completed_on,
                checkpoint=checkpoint,
                periods=periods.get(hmac, ()),
                manual=manual.get((enrollment_id, checkpoint)),
                today=today,
                employer_names=names,
            )
            if j is None:
                continue
            outcomes.append(
                EmploymentOutcome(
                    enrollment_id=enrollment_id,
                    training_class_id=class_id,
                    checkpoint=checkpoint,
                    completed_on=completed_on,
                    check_date=j.check_date,
                    status=j.status,
                    source=j.source,
                    employer_code=j.employer_code[:18],
                    employer_name=j.employer_name[:200],
                    employed_since=j.employed_since,
                    follow_up_id=j.follow_up_id,
                )
            )
    return outcomes


# --- class facts ------------------------------------------------------------------------------------


def _local_month(moment: dt.datetime) -> tuple[int, int]:
    local = timezone.localtime(moment)
    return local.year, local.month


def class_facts(class_ids: Sequence[int], *, today: dt.date, areas: AreaIndex) -> list[ClassMonthFact]:
    """The ClassMonthFact rows of the classes, from the source tables and the stored outcomes."""
    classes = {
        c["id"]: c
        for c in TrainingClass.objects.filter(id__in=class_ids).values(
            "id",
            "status",
            "start_date",
            "end_date",
            "area_id",
            "institution_id",
            "institution__organisation_id",
            "occupation_code",
            "training_type",
        )
    }
    acc: dict[tuple, dict[str, int | Decimal]] = defaultdict(lambda: defaultdict(int))

    def add(class_id: int, category: str, year: int, month: int, **values) -> None:
        cell = acc[(class_id, category, year, month)]
        for name, value in values.items():
            cell[name] += value

    running = [i for i, c in classes.items() if c["status"] in RUNNING]
    for i in running:
        start = classes[i]["start_date"]
        add(i, "", start.year, start.month, classes=1)
    enrolled = Enrollment.objects.filter(training_class_id__in=running, removed_at__isnull=True)
    for row in enrolled.values("training_class_id", "category").annotate(n=Count("id")).order_by():
        start = classes[row["training_class_id"]]["start_date"]
        add(row["training_class_id"], row["category"], start.year, start.month, trainees=row["n"])

    # The completion cohort: classes whose training is over and judged (see rules-interpretation.md).
    ended = [
        i
        for i, c in classes.items()
        if c["status"] in (ClassStatus.COMPLETED, ClassStatus.COMPLETION_REJECTED)
        or (c["status"] == ClassStatus.IMPORTED and c["end_date"] < today)
    ]
    cohort = Enrollment.objects.filter(training_class_id__in=ended, removed_at__isnull=True)
    certified_exam = _sat_exam().filter(passed=True).exclude(certificate__revoked_at__isnull=False)
    completing = cohort.filter(training_class__status__in=COMPLETING)
    for measure, qs in (
        ("ended", cohort),
        ("completed", completing.filter(Exists(_sat_exam()))),
        ("certified", completing.filter(Exists(certified_exam))),
    ):
        for row in qs.values("training_class_id", "category").annotate(n=Count("id")).order_by():
            end = classes[row["training_class_id"]]["end_date"]
            add(row["training_class_id"], row["category"], end.year, end.month, **{measure: row["n"]})

    outcomes = (
        EmploymentOutcome.objects.filter(training_class_id__in=class_ids)
        .values("training_class_id", "enrollment__category", "checkpoint", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in outcomes:
        end = classes[row["training_class_id"]]["end_date"]
        prefix = f"emp{row['checkpoint']}"
        values = {f"{prefix}_due": row["n"]}
        if row["status"] == EmploymentOutcome.Status.EMPLOYED:
            values[f"{prefix}_employed"] = row["n"]
        elif row["status"] == EmploymentOutcome.Status.FURTHER_STUDY:
            values[f"{prefix}_study"] = row["n"]
        add(row["training_class_id"], row["enrollment__category"], end.year, end.month, **values)

    lines = (
        SubsidyLine.objects.filter(application__training_class_id__in=class_ids)
        .exclude(application__status=SubsidyApplication.Status.WITHDRAWN)
        .values(
            "application__training_class_id",
            "enrollment__category",
            "application__submitted_at",
            "application__decided_at",
            "status",
        )
        .annotate(n=Count("id"), amount=Sum("amount"))
        .order_by()
    )
    for row in lines:
        class_id, category = row["application__training_class_id"], row["enrollment__category"]
        add(
            class_id,
            category,
            *_local_month(row["application__submitted_at"]),
            subsidy_applied=row["n"],
            subsidy_applied_amount=row["amount"],
        )
        if row["status"] in APPROVED_LINES and row["application__decided_at"]:
            add(
                class_id,
                category,
                *_local_month(row["application__decided_at"]),
                subsidy_approved=row["n"],
                subsidy_approved_amount=row["amount"],
            )
    paid = (
        SubsidyLine.objects.filter(
            application__training_class_id__in=class_ids,
            status=SubsidyLine.Status.PAID,
            payments__outcome="PAID",
        )
        .values("application__training_class_id", "enrollment__category", "payments__paid_on")
        .annotate(n=Count("id"), amount=Sum("amount"))
        .order_by()
    )
    for row in paid:
        day = row["payments__paid_on"]
        add(
            row["application__training_class_id"],
            row["enrollment__category"],
            day.year,
            day.month,
            subsidy_paid=row["n"],
            subsidy_paid_amount=row["amount"],
        )

    reviews = Review.objects.filter(
        training_class_id__in=class_ids,
        state__in=(Review.State.APPROVED, Review.State.REJECTED),
        decided_at__isnull=False,
    ).values_list("training_class_id", "stage", "decided_at", "workdays_used", "limit_workdays")
    for class_id, stage, decided_at, used, limit in reviews:
        key = "opening" if stage == Review.Stage.OPENING else "completion"
        add(
            class_id,
            "",
            *_local_month(decided_at),
            **{f"{key}_decided": 1, f"{key}_on_time": int(used <= limit)},
        )
    applications = (
        SubsidyApplication.objects.filter(training_class_id__in=class_ids, decided_at__isnull=False)
        .exclude(status=SubsidyApplication.Status.WITHDRAWN)
        .values_list("training_class_id", "decided_at", "workdays_used", "limit_workdays")
    )
    for class_id, decided_at, used, limit in applications:
        add(class_id, "", *_local_month(decided_at), subsidy_decided=1, subsidy_on_time=int(used <= limit))

    facts = []
    for (class_id, category, year, month), values in acc.items():
        c = classes[class_id]
        facts.append(
            ClassMonthFact(
                training_class_id=class_id,
                institution_id=c["institution_id"],
                organisation_id=c["institution__organisation_id"],
                area_id=c["area_id"],
                city_id=areas.city_of(c["area_id"]),
                occupation_code=c["occupation_code"],
                training_type=c["training_type"],
                category=category,
                year=year,
                month=month,
                **values,
            )
        )
    return facts


# --- area facts ---------------------------------------------------------------------------------------


def _rebuild(
    target, source, dimensions: tuple[str, ...], constants: dict, where: list[tuple[str, Iterable]]
) -> int:
    """Delete the target's rows under `where` and sum them again from the source under the same
    condition: exact for any rectangle of the dimensions named in `where`."""
    conditions, params = [], []
    for column, values in where:
        if values is None:
            continue
        values = sorted(set(values))
        if not values:
            return 0
        conditions.append(f"{column} IN ({', '.join(['%s'] * len(values))})")
        params.extend(values)
    condition = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    dims = ", ".join(dimensions)
    columns = ", ".join([*dimensions, *constants, *FactMeasures.MEASURES])
    selected = ", ".join(
        [*dimensions, *(["%s"] * len(constants)), *(f"SUM({m})" for m in FactMeasures.MEASURES)]
    )
    t, src = target._meta.db_table, source._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {t} {condition}", params)  # noqa: S608 - table and column names are ours
        cursor.execute(
            f"INSERT INTO {t} ({columns}) SELECT {selected} FROM {src} {condition} GROUP BY {dims}",  # noqa: S608
            [*constants.values(), *params],
        )
        return cursor.rowcount


def rebuild_area_facts(
    *, area_ids: Iterable[int] | None = None, occupation_codes: Iterable[str] | None = None
) -> int:
    """Rebuild the three summed tables for the given areas × occupations (all when None):
    AreaMonthFact and InstitutionYearFact from ClassMonthFact, AreaTotalFact from AreaMonthFact."""
    rectangle = [("area_id", area_ids), ("occupation_code", occupation_codes)]
    n = _rebuild(
        AreaMonthFact,
        ClassMonthFact,
        ("area_id", "city_id", "occupation_code", "training_type", "category", "year", "month"),
        {},
        rectangle,
    )
    _rebuild(
        InstitutionYearFact,
        ClassMonthFact,
        (
            "area_id",
            "city_id",
            "institution_id",
            "organisation_id",
            "occupation_code",
            "training_type",
            "year",
        ),
        {"category": "", "month": 0},
        rectangle,
    )
    # without occupations: the whole of each touched area
    _rebuild(
        AreaTotalFact,
        AreaMonthFact,
        ("area_id", "city_id", "training_type", "category", "year", "month"),
        {"occupation_code": ""},
        [("area_id", area_ids)],
    )
    return n


# --- the refresh ------------------------------------------------------------------------------------


@dataclass
class RefreshResult:
    full: bool
    classes: int
    outcomes: int
    class_facts: int
    area_facts: int
    seconds: float
    deferred: bool = False  # too much changed for a page view; left to the nightly run


def refresh_classes(class_ids: Iterable[int], *, today: dt.date, progress=None) -> tuple[int, int, int]:
    """Recompute the outcomes and facts of these classes and the area facts they touch."""
    ids = sorted(set(class_ids))
    if not ids:
        return 0, 0, 0
    areas = AreaIndex()
    n_outcomes = n_facts = 0
    touched_areas: set[int] = set()
    touched_occupations: set[str] = set()
    for done, batch in enumerate(chunks(ids, BATCH)):
        old = ClassMonthFact.objects.filter(training_class_id__in=batch)
        for area_id, code in old.values_list("area_id", "occupation_code").distinct():
            touched_areas.add(area_id)
            touched_occupations.add(code)
        outcomes = outcomes_for(batch, today=today)
        EmploymentOutcome.objects.filter(training_class_id__in=batch).delete()
        EmploymentOutcome.objects.bulk_create(outcomes, batch_size=2000)
        facts = class_facts(batch, today=today, areas=areas)
        old.delete()
        ClassMonthFact.objects.bulk_create(facts, batch_size=2000)
        for f in facts:
            touched_areas.add(f.area_id)
            touched_occupations.add(f.occupation_code)
        n_outcomes += len(outcomes)
        n_facts += len(facts)
        if progress:
            progress(min(len(ids), (done + 1) * BATCH), len(ids))
    n_area = rebuild_area_facts(area_ids=touched_areas, occupation_codes=touched_occupations)
    return n_outcomes, n_facts, n_area


def refresh_all(*, today: dt.date, progress=None) -> tuple[int, int, int]:
    ids = list(TrainingClass.objects.order_by("id").values_list("id", flat=True))
    EmploymentOutcome.objects.all().delete()
    ClassMonthFact.objects.all().delete()
    areas = AreaIndex()
    n_outcomes = n_facts = 0
    for done, batch in enumerate(chunks(ids, BATCH)):
        outcomes = outcomes_for(batch, today=today)
        EmploymentOutcome.objects.bulk_create(outcomes, batch_size=2000)
        facts = class_facts(batch, today=today, areas=areas)
        ClassMonthFact.objects.bulk_create(facts, batch_size=2000)
        n_outcomes += len(outcomes)
        n_facts += len(facts)
        if progress:
            progress(min(len(ids), (done + 1) * BATCH), len(ids))
    return n_outcomes, n_facts, rebuild_area_facts()


@dataclass
class Pending:
    """What changed since the last refresh."""

    head: int
    class_ids: set[int]
    full: bool
    entries: int


def _class_of_objects(entries) -> tuple[set[int], bool]:
    class_ids: set[int] = set()
    applications: set[int] = set()
    certificates: set[int] = set()
    follow_ups: set[int] = set()
    full = False
    for action, object_type, object_id, after in entries:
        if action in FULL_ACTIONS:
            full = True
        elif action == "registry.imported" and (after or {}).get("kind") in rules.REGISTRY_KINDS:
            full = True
        elif not object_id.isdigit():
            continue
        elif object_type == "training.TrainingClass":
            class_ids.add(int(object_id))
        elif object_type == "subsidies.SubsidyApplication":
            applications.add(int(object_id))
        elif object_type == "certificates.Certificate":
            certificates.add(int(object_id))
        elif object_type == "reports.FollowUp":
            follow_ups.add(int(object_id))
    from peixun.certificates.models import Certificate

    for model, ids in (
        (SubsidyApplication, applications),
        (Certificate, certificates),
        (FollowUp, follow_ups),
    ):
        for part in chunks(sorted(ids), IN_CHUNK):
            class_ids.update(
                i
                for i in model.objects.filter(pk__in=part).values_list("training_class_id", flat=True)
                if i is not None
            )
    return class_ids, full


def _reaching_checkpoints(since: dt.date | None, today: dt.date) -> set[int]:
    """Classes whose end (imported classes) or a checkpoint passed after `since` up to `today`: their
    numbers change with the date alone. A few days' margin each side; recomputing more is harmless."""
    if since is None or since >= today:
        return set()
    margin = dt.timedelta(days=3)
    found: set[int] = set()
    for months in (0, *rules.CHECKPOINTS):
        low = rules.add_months(since, -months) - margin
        high = rules.add_months(today, -months) + margin
        found.update(
            TrainingClass.objects.filter(
                status__in=RUNNING, end_date__gte=low, end_date__lte=high
            ).values_list("id", flat=True)
        )
    return found


def pending_changes(state: StatsState, *, today: dt.date) -> Pending:
    head = AuditChainHead.objects.filter(singleton=1).values_list("last_entry_id", flat=True).first() or 0
    entries = AuditEntry.objects.filter(id__gt=state.last_audit_id, id__lte=head)
    count = entries.count()
    class_ids, full = _class_of_objects(
        entries.values_list("action", "object_type", "object_id", "after").iterator()
    )
    class_ids |= _reaching_checkpoints(state.as_of, today)
    if state.as_of is None:
        full = True  # never refreshed
    return Pending(head, class_ids, full, count)


def _state(*, wait: bool = True) -> StatsState | None:
    """The locked state row; with wait=False None when another refresh holds it (a page view does
    not queue behind the nightly run)."""
    StatsState.objects.get_or_create(singleton=1)
    if wait:
        return StatsState.objects.select_for_update().get(singleton=1)
    return StatsState.objects.select_for_update(skip_locked=True).filter(singleton=1).first()


def stats_refresh(
    *, full: bool = False, today: dt.date | None = None, inline: bool = False, progress=None
) -> RefreshResult:
    """Bring the facts up to date. `inline` (a page view) gives up when a full refresh or more than
    INLINE_LIMIT classes are due, leaving them to `peixun refresh_stats` (nightly) or a job."""
    started = time.monotonic()
    today = today or timezone.localdate()
    with transaction.atomic():
        state = _state(wait=not inline)
        if state is None:  # another refresh is running: the page shows the figures as they are
            return RefreshResult(False, 0, 0, 0, 0, time.monotonic() - started, deferred=True)
        pending = pending_changes(state, today=today)
        full = full or pending.full
        if inline and (full or len(pending.class_ids) > INLINE_LIMIT):
            return RefreshResult(
                full, len(pending.class_ids), 0, 0, 0, time.monotonic() - started, deferred=True
            )
        if full:
            classes = TrainingClass.objects.count()
            outcomes, facts, area = refresh_all(today=today, progress=progress)
        else:
            classes = len(pending.class_ids)
            outcomes, facts, area = refresh_classes(pending.class_ids, today=today, progress=progress)
        now = timezone.now()
        state.last_audit_id = max(state.last_audit_id, pending.head)
        state.as_of = today
        state.refreshed_at = now
        fields = ["last_audit_id", "as_of", "refreshed_at"]
        if full:
            state.full_refreshed_at = now
            fields.append("full_refreshed_at")
        state.save(update_fields=fields)
    return RefreshResult(full, classes, outcomes, facts, area, time.monotonic() - started)


def stats_are_current(*, today: dt.date | None = None) -> bool:
    """Cheap: nothing audited since the last refresh and the day has not turned."""
    today = today or timezone.localdate()
    state = StatsState.objects.filter(singleton=1).first()
    if state is None or state.as_of != today:
        return False
    head = AuditChainHead.objects.filter(singleton=1).values_list("last_entry_id", flat=True).first() or 0
    return head <= state.last_audit_id


def stats_catch_up(*, today: dt.date | None = None) -> RefreshResult | None:
    """Called by the pages: a small incremental refresh when something changed; None when current."""
    if stats_are_current(today=today):
        return None
    return stats_refresh(today=today, inline=True)


def stats_state() -> StatsState | None:
    return StatsState.objects.filter(singleton=1).first()
