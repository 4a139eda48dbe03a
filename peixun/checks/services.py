"""Findings: store the hits of a check run, and the reviewer's decisions on them.

A finding is identified by (rule_code, class, subject). Storing a run keeps every decision;
findings of the checked classes that the run no longer produces are closed (kept, not current);
one that comes back is reopened with its decision intact.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from peixun.core.audit import audit_record
from peixun.core.contract import FINDINGS_COLUMNS
from peixun.core.errors import PeixunError, TransitionError
from peixun.core.models import Person
from peixun.training.models import TrainingClass

from .catalog import RULES, Hit
from .models import Finding, FindingEvent


@dataclass(frozen=True)
class StoreResult:
    opened: int
    reopened: int
    kept: int
    closed: int


def findings_store(
    *, hits: Iterable[Hit], rules_version: int, class_ids: list[int] | None, actor=None
) -> StoreResult:
    """Write a run's hits. `class_ids` are the classes that were checked (None: all of them)."""
    now = timezone.now()
    hits = {h.key: h for h in hits}
    codes = {h.class_code for h in hits.values()}
    class_by_code = dict(TrainingClass.objects.filter(code__in=codes).values_list("code", "id"))
    subjects = {h.subject for h in hits.values() if h.subject}
    person_by_hmac = {}
    subject_list = list(subjects)
    for start in range(0, len(subject_list), 2000):
        person_by_hmac.update(
            Person.objects.filter(id_hmac__in=subject_list[start : start + 2000]).values_list("id_hmac", "id")
        )
    with transaction.atomic():
        existing_qs = Finding.objects.all()
        if class_ids is not None:
            existing_qs = existing_qs.filter(training_class_id__in=class_ids)
        existing = {}
        for f in existing_qs.select_related("training_class").iterator(chunk_size=5000):
            existing[(f.rule_code, f.training_class.code, f.subject_key)] = f
        new, events, changed, seen_again = [], [], [], []
        reopened = kept = closed = 0
        for key, hit in hits.items():
            finding = existing.get(key)
            spec = RULES[hit.rule_code]
            if finding is None:
                new.append(
                    Finding(
                        rule_code=hit.rule_code,
                        severity=spec.severity,
                        training_class_id=class_by_code[hit.class_code],
                        person_id=person_by_hmac.get(hit.subject),
                        subject_key=hit.subject,
                        evidence=hit.evidence,
                        article=spec.article,
                        rules_version=rules_version,
                        last_found_at=now,
                    )
                )
                continue
            if not finding.is_current:
                finding.is_current, finding.closed_at = True, None
                events.append(
                    FindingEvent(finding=finding, at=now, kind=FindingEvent.Kind.REOPENED, actor=actor)
                )
                reopened += 1
            else:
                kept += 1
                if finding.evidence == hit.evidence and finding.rules_version == rules_version:
                    # Found again as it was: only the time it was last found moves (one plain
                    # UPDATE for all of them; bulk_update's CASE per row was half of a class's re-check).
                    seen_again.append(finding.pk)
                    continue
            finding.evidence, finding.rules_version, finding.last_found_at = hit.evidence, rules_version, now
            changed.append(finding)
        gone = [f for key, f in existing.items() if key not in hits and f.is_current]
        for finding in gone:
            finding.is_current, finding.closed_at = False, now
            events.append(
                FindingEvent(
                    finding=finding,
                    at=now,
                    kind=FindingEvent.Kind.CLOSED,
                    actor=actor,
                    note="重新核查时该问题的原因已不存在",
                )
            )
            closed += 1
        for start in range(0, len(seen_again), 5000):
            Finding.objects.filter(pk__in=seen_again[start : start + 5000]).update(last_found_at=now)
        Finding.objects.bulk_update(
            changed + gone,
            ["is_current", "closed_at", "evidence", "rules_version", "last_found_at"],
            batch_size=2000,
        )
        # SQLite ≥ 3.35 and PostgreSQL return the new ids, which the events need.
        created = Finding.objects.bulk_create(new, batch_size=2000)
        events.extend(
            FindingEvent(finding=f, at=now, kind=FindingEvent.Kind.OPENED, actor=actor) for f in created
        )
        FindingEvent.objects.bulk_create(events, batch_size=5000)
        result = StoreResult(opened=len(new), reopened=reopened, kept=kept, closed=closed)
        audit_record(
            actor=actor,
            action="crosscheck.run",
            object_type="checks.Finding",
            object_repr="全部培训班" if class_ids is None else f"{len(class_ids)}个培训班",
            after={
                "opened": result.opened,
                "reopened": reopened,
                "kept": kept,
                "closed": closed,
                "rules_version": rules_version,
            },
        )
    return result


# --- decisions ------------------------------------------------------------------------------------

FINDING_TRANSITIONS = {
    # action: (from statuses, to status, event)
    "confirm": (frozenset({Finding.Status.OPEN}), Finding.Status.CONFIRMED, FindingEvent.Kind.CONFIRMED),
    "dismiss": (frozenset({Finding.Status.OPEN}), Finding.Status.DISMISSED, FindingEvent.Kind.DISMISSED),
}


def finding_decide(*, finding: Finding, action: str, actor, reason: str, consequence: str = "") -> Finding:
    """Confirm (with its consequence) or dismiss (with a reason). Two reviewers at once: the row
    lock makes the second see the first's decision and be refused."""
    if action not in FINDING_TRANSITIONS:
        raise TransitionError("未知的处理操作")
    sources, target, event = FINDING_TRANSITIONS[action]
    if not reason.strip():
        raise PeixunError("请填写处理意见")
    if action == "confirm" and consequence not in Finding.Consequence.values:
        raise PeixunError("确认时请选择处理结果（学员移出本班、不予补贴或其他）")
    with transaction.atomic():
        locked = Finding.objects.select_for_update().select_related("training_class").get(pk=finding.pk)
        if locked.status not in sources:
            raise TransitionError(f"该问题线索已被处理（{locked.get_status_display()}）")
        locked.status = target
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        locked.decision_reason = reason.strip()
        locked.consequence = consequence if action == "confirm" else ""
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_reason", "consequence"])
        FindingEvent.objects.create(
            finding=locked, at=locked.decided_at, kind=event, actor=actor, note=reason.strip()
        )
        audit_record(
            actor=actor,
            action=f"finding.{'confirmed' if action == 'confirm' else 'dismissed'}",
            obj=locked,
            object_repr=f"{locked.rule_code} {locked.training_class.code}",
            area=locked.training_class.area,
            before={"status": Finding.Status.OPEN},
            after={"status": target, "reason": reason.strip(), "consequence": locked.consequence},
        )
    return locked


def open_blocking_findings(training_class: TrainingClass):
    """BLOCK findings that stop the class's lifecycle transitions until decided (used by the lifecycle)."""
    return Finding.objects.filter(
        training_class=training_class,
        is_current=True,
        severity=Finding.Severity.BLOCK,
        status=Finding.Status.OPEN,
    )


EXPORT_COLUMNS = FINDINGS_COLUMNS


def findings_export_rows():
    """Current findings, one row each (contract.md); the full ID number is decrypted here only."""
    queryset = (
        Finding.objects.filter(is_current=True)
        .select_related("training_class", "person")
        .order_by("training_class__code", "rule_code", "subject_key")
    )
    for f in queryset.iterator(chunk_size=5000):
        yield (
            f.rule_code,
            f.severity,
            f.training_class.code,
            f.person.reveal_id_number() if f.person else "",
            f.status,
            f.evidence,
            f.article,
            f.rules_version,
        )
