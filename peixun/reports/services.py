"""Employment follow-up (第十七条): recording a follow-up call, and the employment rate other apps ask for.

`follow_up_record` is the one way a follow-up enters; the outcome it changes is recomputed by the
next refresh (`reports/refresh.py`), which the follow-up pages run before they show anything.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from peixun.core.audit import audit_record
from peixun.core.errors import PeixunError
from peixun.institutions.models import Institution
from peixun.training.models import Enrollment, ExamResult

from . import employment as rules
from .models import Checkpoint, FollowUp, InstitutionYearFact
from .refresh import COMPLETING


def trainee_completed(enrollment: Enrollment) -> bool:
    """Completed in the sense of employment.py: on the roster of a COMPLETED or IMPORTED class, exam sat."""
    c = enrollment.training_class
    return (
        enrollment.removed_at is None
        and c.status in COMPLETING
        and ExamResult.objects.filter(training_class=c, person_id=enrollment.person_id).exists()
    )


def follow_up_record(
    *,
    enrollment: Enrollment,
    actor,
    checkpoint: int,
    outcome: str,
    method: str,
    contacted_on: dt.date,
    employer_name: str = "",
    employed_since: dt.date | None = None,
    note: str = "",
) -> FollowUp:
    """Record what a follow-up call or visit found at one checkpoint; a second record for the same
    checkpoint replaces the first (the audit entry keeps both versions)."""
    today = timezone.localdate()
    c = enrollment.training_class
    problems = []
    if not trainee_completed(enrollment):
        problems.append("该学员未结业，无需就业跟踪")
    if checkpoint not in Checkpoint.values:
        problems.append("跟踪节点应为结业后3个月或6个月")
    elif problems == [] and rules.checkpoint_date(c.end_date, checkpoint) > today:
        day = rules.checkpoint_date(c.end_date, checkpoint)
        problems.append(f"结业后{checkpoint}个月的跟踪日期为{day:%Y-%m-%d}，尚未到期")
    if outcome not in FollowUp.Outcome.values:
        problems.append("请选择就业情况")
    if method not in FollowUp.Method.values:
        problems.append("请选择回访方式")
    if contacted_on > today:
        problems.append("回访日期不能晚于今天")
    elif contacted_on < c.end_date:
        problems.append("回访日期不能早于结业日期")
    employer_name = employer_name.strip()
    if outcome in FollowUp.EMPLOYED_OUTCOMES and not employer_name:
        problems.append("请填写就业单位或创业项目")
    if employed_since and employed_since > contacted_on:
        problems.append("就业开始日期不能晚于回访日期")
    if problems:
        raise PeixunError("；".join(problems))
    if outcome not in FollowUp.EMPLOYED_OUTCOMES:
        employer_name, employed_since = "", None
    values = {
        "training_class": c,
        "outcome": outcome,
        "method": method,
        "contacted_on": contacted_on,
        "employer_name": employer_name[:200],
        "employed_since": employed_since,
        "note": note.strip()[:300],
        "recorded_by": actor,
        "recorder_organisation": getattr(actor, "organisation", None),
        "recorded_at": timezone.now(),
    }
    with transaction.atomic():
        # Two clerks saving the same checkpoint at once: the second waits and then replaces.
        existing = (
            FollowUp.objects.select_for_update().filter(enrollment=enrollment, checkpoint=checkpoint).first()
        )
        before = _summary(existing) if existing else None
        if existing is None:
            record = FollowUp.objects.create(enrollment=enrollment, checkpoint=checkpoint, **values)
        else:
            for name, value in values.items():
                setattr(existing, name, value)
            existing.save(update_fields=list(values))
            record = existing
        audit_record(
            actor=actor,
            action="reports.follow_up.recorded",
            obj=record,
            object_repr=f"{c.code} {enrollment.person.name} {record.get_checkpoint_display()}",
            area=c.area,
            organisation=c.institution.organisation,
            before=before,
            after=_summary(record),
        )
    return record


def _summary(record: FollowUp) -> dict:
    return {
        "person": record.enrollment.person.id_masked,
        "checkpoint": record.checkpoint,
        "outcome": record.outcome,
        "method": record.method,
        "contacted_on": record.contacted_on,
        "employer_name": record.employer_name,
        "employed_since": record.employed_since,
    }


def employment_rate_for_institution(
    institution: Institution, year: int | None = None, *, checkpoint: int = 6
) -> Decimal | None:
    """The institution's employment rate after training (第十七条) as a share in [0, 1], four places.

    Employed ÷ (trainees whose checkpoint was reached − those in further study), at the 6-month
    checkpoint unless asked for 3; `year` is the year of completion (the class's 结业日期), None for
    all years. None when no completed trainee has reached the checkpoint. Read from the statistics
    as of their last refresh (nightly, and whenever a statistics page is opened).
    """
    if checkpoint not in Checkpoint.values:
        raise ValueError("checkpoint must be 3 or 6")
    qs = InstitutionYearFact.objects.filter(institution=institution)
    if year is not None:
        qs = qs.filter(year=year)
    p = f"emp{checkpoint}"
    sums = qs.aggregate(employed=Sum(f"{p}_employed"), due=Sum(f"{p}_due"), study=Sum(f"{p}_study"))
    return rules.employment_rate(
        employed=sums["employed"] or 0, reached=sums["due"] or 0, further_study=sums["study"] or 0
    )
