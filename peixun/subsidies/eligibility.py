"""Who may be subsidised for a completed class (rules.md "Eligibility"; 第十四条, 财社〔2023〕181号).

Each rule is a pure function `(facts, params, applied_on) -> list[str]` over one trainee's facts,
returning plain-Chinese problems (empty: no objection). `evaluate()` runs them all and tags each
problem with a code, so the services can tell "须先处理问题线索" (decide the finding first) from a
final refusal. `load_facts()` builds the facts of a class's trainees from the database in a fixed
number of queries.

What counts as "already subsidised" (lifetime cap, yearly cap, no repeat): the person's history
rows (subsidised trainings before peixun), their other lines that passed review (公示中, 异议处理中,
待拨付, 已拨付), and their other lines still under review for a class that started earlier (by
start date, then class code, as LIFETIME_CAP orders enrolments). A line still under review for a
later class does not count against this one: of two simultaneous applications, the earlier class
goes first instead of both being refused.
"""

from __future__ import annotations

import datetime as dt
from calendar import monthrange
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from peixun.checks.rules import fmt_level, periods_overlap, same_or_higher_level

# --- facts --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClassFact:
    code: str
    occupation_code: str
    occupation_name: str
    level: str
    start_date: dt.date
    end_date: dt.date


@dataclass(frozen=True)
class CertificateFact:
    number: str
    kind_label: str
    issued_on: dt.date
    revoked: bool = False
    revoked_reason: str = ""


@dataclass(frozen=True)
class SubsidyRecord:
    """An earlier or concurrent subsidised training of the person."""

    HISTORY = "history"  # history.csv: subsidised before peixun
    PASSED = "passed"  # a peixun line past review (公示中 … 已拨付)
    UNDER_REVIEW = "under_review"  # a peixun line still under review

    kind: str
    occupation_code: str
    level: str
    completed_on: dt.date  # history completion date, or the class end date
    label: str  # Chinese, names the record
    class_start: dt.date | None = None
    class_code: str = ""


@dataclass(frozen=True)
class PeriodFact:
    """A public-payroll (财政供养) period; inclusive, None = open at that end."""

    org_name: str
    date_from: dt.date | None
    date_to: dt.date | None


@dataclass(frozen=True)
class FindingFact:
    rule_title: str
    class_level: bool
    confirmed: bool = False  # False: open BLOCK finding; True: confirmed with a refusing consequence
    consequence_label: str = ""


@dataclass(frozen=True)
class TraineeFacts:
    klass: ClassFact
    person_name: str
    removed_reason: str | None = None  # None: still on the roster
    certificate: CertificateFact | None = None
    subsidies: tuple[SubsidyRecord, ...] = ()
    payroll: tuple[PeriodFact, ...] = ()
    findings: tuple[FindingFact, ...] = ()


@dataclass(frozen=True)
class Params:
    application_months: int = 12
    lifetime_cap: int = 3
    yearly_cap: int | None = None

    @classmethod
    def from_settings(cls, settings) -> Params:
        return cls(
            application_months=settings.subsidy_application_months,
            lifetime_cap=settings.lifetime_subsidy_cap,
            yearly_cap=settings.yearly_subsidy_cap,
        )


@dataclass(frozen=True)
class Problem:
    code: str
    text: str

    def __str__(self) -> str:
        return self.text


# --- helpers ------------------------------------------------------------------------------------


def fmt_day(day: dt.date | None) -> str:
    return day.isoformat() if day else "至今"


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day N months later; the 31st becomes the month's last day (2026-08-31 + 6 → 2027-02-28)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, monthrange(year, month)[1]))


def counted_subsidies(f: TraineeFacts) -> list[SubsidyRecord]:
    """The subsidies that count against this one (see the module docstring)."""
    this_key = (f.klass.start_date, f.klass.code)
    return [
        s
        for s in f.subsidies
        if s.kind != SubsidyRecord.UNDER_REVIEW or ((s.class_start or dt.date.min), s.class_code) < this_key
    ]


# --- the rules ----------------------------------------------------------------------------------


def on_roster(f: TraineeFacts, p: Params, applied_on: dt.date) -> list[str]:
    """第二十三条: a trainee removed from the roster (by change request or finding) is not subsidised."""
    if f.removed_reason is None:
        return []
    reason = f"（{f.removed_reason}）" if f.removed_reason else ""
    return [f"已移出本班花名册{reason}，不予补贴"]


def certificate_held(f: TraineeFacts, p: Params, applied_on: dt.date) -> list[str]:
    """第十四条、rules.md: a subsidy needs a certificate of this training, not revoked."""
    c = f.certificate
    if c is None:
        return [
            "未取得本次培训的证书（职业资格证书、职业技能等级证书、专项职业能力证书或培训合格证书），不能申请补贴"
        ]
    if c.revoked:
        reason = f"，原因：{c.revoked_reason}" if c.revoked_reason else ""
        return [f"{c.kind_label}{c.number}已撤销{reason}，不能申请补贴"]
    return []


def within_window(f: TraineeFacts, p: Params, applied_on: dt.date) -> list[str]:
    """Rules.md: apply within N months (default 12) of the certificate's issue date, the last day
    included."""
    c = f.certificate
    if c is None:
        return []
    last_day = add_months(c.issued_on, p.application_months)
    if applied_on > last_day:
        return [
            f"证书{c.number}于{fmt_day(c.issued_on)}发证，应在{p.application_months}个月内"
            f"（{fmt_day(last_day)}前）申请补贴，已超过申请期限"
        ]
    return []


def lifetime_cap(f: TraineeFacts, p: Params, applied_on: dt.date) -> list[str]:
    """财社〔2023〕181号 第五条: at most N (default 3) job-training subsidies per person in a lifetime."""
    earlier = counted_subsidies(f)
    if len(earlier) + 1 <= p.lifetime_cap:
        return []
    listed = "、".join(s.label for s in sorted(earlier, key=lambda s: s.completed_on))
    return [
        f"本次为第{len(earlier) + 1}次职业培训补贴，超过每人终身{p.lifetime_cap}次的上限"
        f"（财社〔2023〕181号 第五条）；已享受：{listed}"
    ]


def yearly_cap(f: TraineeFacts, p: Params, applied_on: dt.date) -> list[str]:
    """A yearly cap, when the region sets one: subsidies counted by the calendar year of completion
    (history completion date, class end date)."""
    if p.yearly_cap is None:
        return []
    year = f.klass.end_date.year
    same_year = [s for s in counted_subsidies(f) if s.completed_on.year == year]
    if len(same_year) + 1 <= p.yearly_cap:
        return []
    listed = "、".join(s.label for s in same_year)
    return [
        f"{year}年已享受{len(same_year)}次职业培训补贴，超过每人每年{p.yearly_cap}次的上限；已享受：{listed}"
    ]


def no_repeat(f: TraineeFacts, p: Params, applied_on: dt.date) -> list[str]:
    """第二十二条 (rules.md REPEAT_TRAINING): not subsidised again for the same occupation at the same
    or a lower level than one already subsidised. Numeric levels compare as numbers (1 is highest);
    other levels only when equal."""
    k = f.klass
    repeats = [
        s
        for s in counted_subsidies(f)
        if s.occupation_code == k.occupation_code and same_or_higher_level(s.level, k.level)
    ]
    if not repeats:
        return []
    listed = "、".join(s.label for s in repeats)
    return [
        f"已享受过{k.occupation_name}（{k.occupation_code}）{fmt_level(k.level)}或更高等级的补贴（{listed}），"
        "同一职业（工种）同等级及以下不重复补贴（第二十二条）"
    ]


def not_public_payroll(f: TraineeFacts, p: Params, applied_on: dt.date) -> list[str]:
    """财社〔2023〕181号 第十六条: nobody on a government or public-institution payroll during training."""
    k = f.klass
    return [
        f"培训期间（{fmt_day(k.start_date)}至{fmt_day(k.end_date)}）为财政供养人员"
        f"（{row.org_name or '供养单位'}，{fmt_day(row.date_from)}至{fmt_day(row.date_to)}），不予补贴（181号 第十六条）"
        for row in f.payroll
        if periods_overlap(row.date_from, row.date_to, k.start_date, k.end_date)
    ]


def findings_decided(f: TraineeFacts, p: Params, applied_on: dt.date) -> list[str]:
    """Rules.md: a BLOCK finding stops the step until a reviewer decides it (the person's, or a
    class-level one)."""
    titles = [x.rule_title + ("（全班）" if x.class_level else "") for x in f.findings if not x.confirmed]
    return [f"须先处理问题线索：{'、'.join(dict.fromkeys(titles))}"] if titles else []


def findings_not_refusing(f: TraineeFacts, p: Params, applied_on: dt.date) -> list[str]:
    """A finding the reviewer confirmed with the consequence 不予补贴 or 学员移出本班 refuses the subsidy."""
    return [
        f"问题线索“{x.rule_title}”{'（全班）' if x.class_level else ''}已确认，处理结果为{x.consequence_label}"
        for x in f.findings
        if x.confirmed
    ]


# The one code that means "not yet" rather than "no": once the reviewer decides the finding, the
# line may pass; every other code is a refusal.
FINDINGS_OPEN = "FINDINGS_OPEN"

RULES: tuple[tuple[str, Callable[[TraineeFacts, Params, dt.date], list[str]]], ...] = (
    ("ROSTER", on_roster),
    ("CERTIFICATE", certificate_held),
    ("WINDOW", within_window),
    ("LIFETIME_CAP", lifetime_cap),
    ("YEARLY_CAP", yearly_cap),
    ("REPEAT", no_repeat),
    ("PUBLIC_PAYROLL", not_public_payroll),
    (FINDINGS_OPEN, findings_decided),
    ("FINDING_CONFIRMED", findings_not_refusing),
)


def evaluate(f: TraineeFacts, p: Params, applied_on: dt.date) -> list[Problem]:
    return [Problem(code, text) for code, rule in RULES for text in rule(f, p, applied_on)]


# --- loading the facts --------------------------------------------------------------------------


@dataclass
class _Acc:
    subsidies: list = field(default_factory=list)
    payroll: list = field(default_factory=list)
    findings: list = field(default_factory=list)


def _certificate_rank(cert, training_class) -> tuple:
    # This class's own certificate first, then one of the body for the same occupation; valid first.
    return (
        cert.revoked_at is not None,
        cert.training_class_id != training_class.pk,
        -cert.issued_on.toordinal(),
    )


def load_facts(training_class, enrollments: Iterable) -> dict:
    """`{enrollment.pk: TraineeFacts}` for the class's trainees, in a fixed number of queries.

    The certificate of a trainee is the one peixun issued for this class, or a certificate of an
    evaluation body in the class's occupation (same level, or no level) issued on or after the class
    start date. The person's lines for this class itself are not "other subsidies"."""
    from django.db.models import Q

    from peixun.checks.catalog import RULES as FINDING_RULES
    from peixun.checks.facts import current_snapshot_ids
    from peixun.checks.models import Finding, HistoryTraining, RegistryKind, RegistryRow
    from peixun.checks.services import open_blocking_findings

    from .models import SubsidyLine

    enrollments = list(enrollments)
    k = training_class
    klass = ClassFact(k.code, k.occupation_code, k.occupation_name, k.level, k.start_date, k.end_date)
    persons = {e.person_id: e.person for e in enrollments}
    hmac_to_person = {p.id_hmac: pid for pid, p in persons.items()}
    acc: dict[int, _Acc] = defaultdict(_Acc)

    certificates = certificates_of(k, persons)

    for h in HistoryTraining.objects.filter(id_hmac__in=hmac_to_person).order_by("completed_on", "id"):
        acc[hmac_to_person[h.id_hmac]].subsidies.append(
            SubsidyRecord(
                SubsidyRecord.HISTORY,
                h.occupation_code,
                h.level,
                h.completed_on,
                f"历史补贴记录{h.occupation_code} {fmt_level(h.level)}（{fmt_day(h.completed_on)}结业）",
            )
        )
    lines = (
        SubsidyLine.objects.filter(person_id__in=persons, status__in=SubsidyLine.LIVE)
        .exclude(enrollment__training_class=k)
        .select_related("application__training_class")
    )
    for line in lines:
        c = line.application.training_class
        acc[line.person_id].subsidies.append(
            SubsidyRecord(
                SubsidyRecord.UNDER_REVIEW
                if line.status == SubsidyLine.Status.PENDING
                else SubsidyRecord.PASSED,
                c.occupation_code,
                c.level,
                c.end_date,
                f"补贴申请{line.application.code}（培训班{c.code} {c.occupation_name}{fmt_level(c.level)}，"
                f"{line.get_status_display()}）",
                class_start=c.start_date,
                class_code=c.code,
            )
        )
    for r in RegistryRow.objects.filter(
        snapshot_id__in=current_snapshot_ids(), kind=RegistryKind.PUBLIC_PAYROLL, id_hmac__in=hmac_to_person
    ):
        acc[hmac_to_person[r.id_hmac]].payroll.append(PeriodFact(r.org_name, r.date_from, r.date_to))

    def title(code: str) -> str:
        spec = FINDING_RULES.get(code)
        return spec.title if spec else code

    class_level: list[FindingFact] = []
    open_block = open_blocking_findings(k).filter(Q(person_id__in=persons) | Q(subject_key=""))
    refusing = Finding.objects.filter(
        training_class=k,
        is_current=True,
        status=Finding.Status.CONFIRMED,
        consequence__in=[Finding.Consequence.REFUSE_SUBSIDY, Finding.Consequence.REMOVE_TRAINEE],
    ).filter(Q(person_id__in=persons) | Q(subject_key=""))
    for finding in [*open_block, *refusing]:
        fact = FindingFact(
            title(finding.rule_code),
            class_level=not finding.subject_key,
            confirmed=finding.status == Finding.Status.CONFIRMED,
            consequence_label=finding.get_consequence_display() if finding.consequence else "",
        )
        if fact.class_level:
            class_level.append(fact)
        elif finding.person_id in persons:
            acc[finding.person_id].findings.append(fact)

    facts = {}
    for e in enrollments:
        mine = acc[e.person_id]
        cert = certificates.get(e.person_id)
        facts[e.pk] = TraineeFacts(
            klass=klass,
            person_name=e.person.name,
            removed_reason=(e.removed_reason or "") if e.removed_at else None,
            certificate=CertificateFact(
                cert.number, cert.get_kind_display(), cert.issued_on, cert.is_revoked, cert.revoked_reason
            )
            if cert
            else None,
            subsidies=tuple(mine.subsidies),
            payroll=tuple(mine.payroll),
            findings=tuple(class_level + mine.findings),
        )
    return facts


def certificates_of(training_class, person_ids: Iterable[int]) -> dict:
    """`{person_id: Certificate}`: the certificate `load_facts` judges, for the line to point at."""
    from django.db.models import Q

    from peixun.certificates.models import Certificate

    k = training_class
    found: dict[int, list] = defaultdict(list)
    for c in Certificate.objects.filter(person_id__in=list(person_ids)).filter(
        Q(training_class=k)
        | Q(training_class__isnull=True, occupation_code=k.occupation_code, issued_on__gte=k.start_date)
        & (Q(level=k.level) | Q(level=""))
    ):
        found[c.person_id].append(c)
    return {pid: sorted(cs, key=lambda c: _certificate_rank(c, k))[0] for pid, cs in found.items()}
