"""Dashboard benchmark (issue: employment follow-up, statistics and dashboards).

Builds a province of N trainees directly with COPY on PostgreSQL — institutions, classes, people,
rosters, exams, social-insurance and employment-filing rows, reviews, subsidy applications, lines and
payments, findings and demand reports — runs the real statistics refresh over it (`stats_refresh`,
full, as the nightly command does), then times every statistics page through Django's test client
(middleware, scope, the catch-up check, queries, template) for a region, city, county and
institution user, plus one follow-up recorded and caught up incrementally, and the background
reports.

    createdb -h 127.0.0.1 -U postgres peixun_bench_reports   # once
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/peixun_bench_reports \\
      .venv/bin/python bench/dashboards.py --trainees 1000000

The database named by DATABASE_URL is emptied first (--reuse skips building and refreshing and only
times the pages). Not a test: it prints figures for docs/performance.md.
"""

import argparse
import datetime as dt
import hashlib
import os
import platform
import random
import statistics
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TODAY = dt.date(2026, 11, 27)
PASSWORD = "Bench-Passw0rd-2026"
PER_CLASS = 40
CATEGORIES = (
    ("RURAL_MIGRANT", 30),
    ("REGISTERED_UNEMPLOYED", 20),
    ("ENTERPRISE_EMPLOYEE", 18),
    ("GRADUATE", 10),
    ("EMPLOYMENT_DIFFICULTY", 10),
    ("POVERTY_MONITORED", 8),
    ("SCHOOL_LEAVER", 4),
)
TYPES = (("EMPLOYMENT", 60), ("UPGRADE", 25), ("STARTUP", 8), ("SPECIAL", 7))
RULE_CODES = (
    "REPEAT_TRAINING",
    "UNEMPLOYED_NOT_REGISTERED",
    "DUPLICATE_PHOTO",
    "LOCATION_MISMATCH",
    "LIFETIME_CAP",
)


def _chain(first, rest):
    yield first
    yield from rest


def weighted(rng, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights)[0]


class Copier:
    """COPY rows of a model; fields not given take their default (or empty / NULL / now)."""

    def __init__(self, connection):
        self.connection = connection
        self.now = dt.datetime(2026, 11, 27, 8, tzinfo=dt.UTC)

    def fill(self, field, row):
        if field.attname in row:
            return row[field.attname]
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            return self.now
        if field.has_default():
            return field.get_default()
        if field.null:
            return None
        return ""

    def copy(self, model, rows) -> int:
        rows = iter(rows)
        first = next(rows, None)
        if first is None:
            return 0
        # the primary key is written only when the rows carry it (ids the other tables refer to)
        fields = [f for f in model._meta.concrete_fields if not f.primary_key or f.attname in first]
        names = ", ".join(f'"{f.column}"' for f in fields)
        n = 0
        with self.connection.cursor() as cursor:
            raw = getattr(cursor, "cursor", cursor)
            with raw.copy(f"COPY {model._meta.db_table} ({names}) FROM STDIN") as copy:
                for row in _chain(first, rows):
                    copy.write_row([self.fill(f, row) for f in fields])
                    n += 1
        return n

    def reset_sequences(self, *models):
        with self.connection.cursor() as cursor:
            for model in models:
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 1))"
                )


def build(trainees: int, seed: int) -> dict:
    from django.db import connection

    from peixun.accounts.models import Organisation
    from peixun.accounts.roles import Role
    from peixun.accounts.services import user_create
    from peixun.catalog.models import Occupation
    from peixun.checks.models import Finding, RegistryRow, RegistrySnapshot
    from peixun.core.models import Area, Person
    from peixun.demand.models import DemandReport
    from peixun.institutions.models import Institution
    from peixun.subsidies.models import Payment, SubsidyApplication, SubsidyLine
    from peixun.training.models import Enrollment, ExamResult, Review, TrainingClass

    rng = random.Random(seed)
    c = Copier(connection)
    timings = {}
    areas = list(
        Area.objects.filter(kind__in=(Area.Kind.COUNTY, Area.Kind.ZONE, Area.Kind.COUNTY_DIRECT)).order_by(
            "code"
        )
    )
    xincheng = Area.objects.get(code="150102")
    occupations = list(
        Occupation.objects.filter(active=True).order_by("code").values_list("id", "code", "name")
    )
    occupations = rng.sample(occupations, 80)
    n_classes = max(1, trainees // PER_CLASS)
    n_institutions = max(4, trainees // 1000)

    started = time.monotonic()
    region = Organisation.objects.create(
        name="自治区人社厅", kind="REGION_DEPT", area=Area.objects.get(code="150000")
    )
    hohhot = Organisation.objects.create(
        name="呼和浩特市人社局", kind="CITY_BUREAU", area=Area.objects.get(code="150100")
    )
    county = Organisation.objects.create(name="新城区就业服务中心", kind="COUNTY_BUREAU", area=xincheng)
    inst_areas = [xincheng, *(rng.choice(areas) for _ in range(n_institutions - 1))]
    c.copy(
        Organisation,
        (
            {"id": 100 + i, "name": f"培训机构{i:05d}", "kind": "INSTITUTION", "area_id": a.id}
            for i, a in enumerate(inst_areas)
        ),
    )
    c.copy(
        Institution,
        (
            {
                "id": 1 + i,
                "organisation_id": 100 + i,
                "code": f"52{i:016d}",
                "name": f"职业技能培训学校{i:05d}",
                "type": "PRIVATE_SCHOOL",
                "area_id": a.id,
                "status": "LISTED",
            }
            for i, a in enumerate(inst_areas)
        ),
    )
    users = {
        "region": user_create(
            username="b_region",
            password=PASSWORD,
            role=Role.REGION_ADMIN,
            display_name="区",
            organisation=region,
            actor=None,
        ),
        "city": user_create(
            username="b_city",
            password=PASSWORD,
            role=Role.CITY_ADMIN,
            display_name="市",
            organisation=hohhot,
            actor=None,
        ),
        "county": user_create(
            username="b_county",
            password=PASSWORD,
            role=Role.REVIEWER,
            display_name="县",
            organisation=county,
            actor=None,
        ),
        "institution": user_create(
            username="b_inst",
            password=PASSWORD,
            display_name="机构",
            role=Role.INSTITUTION_OPERATOR,
            organisation=Organisation.objects.get(id=100),
            actor=None,
        ),
    }
    operator_id = users["institution"].id

    # classes: starts spread over 2025 and 2026; ended ones completed or imported
    classes = []
    first, last = dt.date(2025, 1, 6).toordinal(), dt.date(2026, 11, 20).toordinal()
    for i in range(n_classes):
        inst = 0 if i % 97 == 0 else rng.randrange(n_institutions)
        start = dt.date.fromordinal(rng.randint(first, last))
        end = start + dt.timedelta(days=rng.randint(9, 30))
        if end < TODAY - dt.timedelta(days=10):
            status = "COMPLETED" if rng.random() < 0.3 else "IMPORTED"
        else:
            status = "APPROVED"
        occ = rng.choice(occupations)
        classes.append((i + 1, inst, inst_areas[inst].id, occ, weighted(rng, TYPES), start, end, status))
    c.copy(
        TrainingClass,
        (
            {
                "id": cid,
                "code": f"B{cid:07d}",
                "institution_id": inst + 1,
                "area_id": area_id,
                "occupation_code": occ[1],
                "occupation_name": occ[2],
                "level": "5",
                "training_type": ttype,
                "start_date": start,
                "end_date": end,
                "total_hours": Decimal("80"),
                "online_hours": Decimal("0"),
                "source": "IMPORT" if status == "IMPORTED" else "SYSTEM",
                "status": status,
            }
            for cid, inst, area_id, occ, ttype, start, end, status in classes
        ),
    )
    timings["institutions and classes"] = time.monotonic() - started

    # people and rosters; exams for the ended classes; employment registries for some
    started = time.monotonic()
    people = []  # (person id, class index, category, hmac)
    for pid in range(1, trainees + 1):
        klass = classes[(pid - 1) % n_classes]
        people.append((pid, klass, weighted(rng, CATEGORIES), hashlib.sha256(f"p{pid}".encode()).hexdigest()))

    def person_rows():
        for pid, klass, _cat, hmac in people:
            yield {
                "id": pid,
                "public_id": uuid.UUID(int=pid),
                "id_hmac": hmac,
                "id_cipher": "bench",
                "id_masked": f"150102********{pid % 10000:04d}",
                "name": f"学员{pid}",
                "birth_date": dt.date(1970 + pid % 35, 1 + pid % 12, 1 + pid % 28),
                "sex": "M" if pid % 2 else "F",
                "area_id": klass[2],
            }

    c.copy(Person, person_rows())
    c.copy(
        Enrollment,
        (
            {
                "id": pid,
                "training_class_id": klass[0],
                "person_id": pid,
                "category": cat,
                "enrolled_at": c.now,
            }
            for pid, klass, cat, _h in people
        ),
    )
    exams, passed = [], set()
    for pid, klass, _cat, _h in people:
        if klass[7] == "APPROVED" or rng.random() > 0.93:
            continue
        ok = rng.random() < 0.9
        exams.append(
            {
                "training_class_id": klass[0],
                "person_id": pid,
                "exam_date": klass[6],
                "score": 80,
                "passed": ok,
            }
        )
        if ok:
            passed.add(pid)
    c.copy(ExamResult, exams)
    timings["people, rosters, exams"] = time.monotonic() - started

    started = time.monotonic()
    snapshots = {
        kind: RegistrySnapshot.objects.create(
            kind=kind, file_name=f"{kind}.csv", sha256="0" * 64, row_count=0
        )
        for kind in ("social_insurance", "employment_filing")
    }
    registry = []
    for pid, klass, _cat, hmac in people:
        if pid not in passed:
            continue
        draw = rng.random()
        if draw < 0.45:
            kind = "social_insurance"
            begin = (klass[6] + dt.timedelta(days=rng.randint(-400, 150))).replace(day=1)
            end = None if rng.random() < 0.7 else begin + dt.timedelta(days=rng.randint(60, 500))
        elif draw < 0.65:
            kind = "employment_filing"
            begin = klass[6] + dt.timedelta(days=rng.randint(-200, 150))
            end = None if rng.random() < 0.6 else begin + dt.timedelta(days=rng.randint(30, 400))
        else:
            continue
        registry.append(
            {
                "snapshot_id": snapshots[kind].id,
                "kind": kind,
                "line": pid,
                "id_hmac": hmac,
                "id_masked": "150102********0000",
                "name": f"学员{pid}",
                "date_from": begin,
                "date_to": end,
                "org_code": f"9115{pid % 5000:014d}",
                "org_name": f"用人单位{pid % 5000}" if kind == "social_insurance" else "",
            }
        )
    c.copy(RegistryRow, registry)
    timings["registries"] = time.monotonic() - started

    # reviews, subsidies, payments, findings, demand
    started = time.monotonic()
    reviews, applications, lines, payments, paid_links, findings = [], [], [], [], [], []
    members: dict[int, list[int]] = {}
    for pid, klass, _cat, _h in people:
        members.setdefault(klass[0], []).append(pid)
    line_id = payment_id = 0
    for cid, _inst, _area, _occ, _t, start, end, status in classes:
        decided = dt.datetime.combine(start - dt.timedelta(days=3), dt.time(10), tzinfo=dt.UTC)
        reviews.append(
            {
                "training_class_id": cid,
                "stage": "OPENING",
                "state": "APPROVED",
                "limit_workdays": 5,
                "first_submitted_at": decided - dt.timedelta(days=6),
                "submitted_on": start - dt.timedelta(days=9),
                "workdays_used": rng.randint(1, 6),
                "decided_at": decided,
            }
        )
        if status == "APPROVED":
            continue
        if status == "COMPLETED":
            reviews.append(
                {
                    "training_class_id": cid,
                    "stage": "COMPLETION",
                    "state": "APPROVED",
                    "limit_workdays": 3,
                    "first_submitted_at": dt.datetime.combine(end, dt.time(9), tzinfo=dt.UTC),
                    "submitted_on": end,
                    "workdays_used": rng.randint(1, 4),
                    "decided_at": dt.datetime.combine(end + dt.timedelta(days=4), dt.time(9), tzinfo=dt.UTC),
                }
            )
        if rng.random() < 0.1 or end > TODAY - dt.timedelta(days=20):
            continue
        aid = len(applications) + 1
        submitted = dt.datetime.combine(end + dt.timedelta(days=7), dt.time(10), tzinfo=dt.UTC)
        applications.append(
            {
                "id": aid,
                "code": f"BT{aid:08d}",
                "applicant_kind": "INSTITUTION",
                "training_class_id": cid,
                "institution_id": _inst + 1,
                "status": "NOTICE",
                "submitted_at": submitted,
                "submitted_by_id": operator_id,
                "submitted_on": submitted.date(),
                "limit_workdays": 8,
                "workdays_used": rng.randint(2, 9),
                "decided_at": submitted + dt.timedelta(days=8),
            }
        )
        paid_now = []
        for pid in members.get(cid, []):
            if pid not in passed:
                continue
            line_id += 1
            state = weighted(rng, (("PAID", 60), ("PAYABLE", 20), ("NOTICE", 10), ("REFUSED", 10)))
            lines.append(
                {
                    "id": line_id,
                    "application_id": aid,
                    "enrollment_id": pid,
                    "person_id": pid,
                    "amount": Decimal("1500"),
                    "status": state,
                }
            )
            if state == "PAID":
                paid_now.append(line_id)
        if paid_now:
            payment_id += 1
            payments.append(
                {
                    "id": payment_id,
                    "application_id": aid,
                    "payee_kind": "INSTITUTION_ACCOUNT",
                    "payee_name": "机构",
                    "payee_account": "0602",
                    "voucher_no": f"PZ{payment_id:08d}",
                    "paid_on": submitted.date() + dt.timedelta(days=20),
                    "amount": Decimal(1500 * len(paid_now)),
                    "outcome": "PAID",
                    "recorded_by_id": operator_id,
                }
            )
            paid_links.extend({"payment_id": payment_id, "subsidyline_id": i} for i in paid_now)
        for rule in rng.sample(RULE_CODES, rng.randint(0, 3)):
            findings.append(
                {
                    "rule_code": rule,
                    "severity": "BLOCK",
                    "training_class_id": cid,
                    "subject_key": rule,
                    "status": rng.choice(("OPEN", "CONFIRMED", "DISMISSED")),
                    "evidence": "—",
                    "article": "第二十二条",
                    "rules_version": 1,
                    "is_current": True,
                    "first_found_at": c.now,
                    "last_found_at": c.now,
                }
            )
    for i in range(200):  # some reviews still pending, a few overdue, for the 审核时效 numbers
        cid = classes[i * 7 % n_classes][0]
        reviews.append(
            {
                "training_class_id": cid,
                "stage": "COMPLETION",
                "state": "PENDING",
                "limit_workdays": 3,
                "first_submitted_at": c.now - dt.timedelta(days=i % 9),
                "submitted_on": TODAY - dt.timedelta(days=i % 9),
                "due_date": TODAY + dt.timedelta(days=3 - i % 9),
            }
        )
    c.copy(Review, reviews)
    c.copy(SubsidyApplication, applications)
    c.copy(SubsidyLine, lines)
    c.copy(Payment, payments)
    c.copy(Payment.lines.through, paid_links)
    c.copy(Finding, findings)
    c.copy(
        DemandReport,
        (
            {
                "kind": rng.choice(("ENTERPRISE", "WORKER")),
                "channel": "BUREAU",
                "area_id": rng.choice(areas).id,
                "occupation_id": rng.choice(occupations)[0],
                "headcount": rng.randint(1, 60),
                "contact_name": "联系人",
                "contact_phone": "0471-0000000",
                "survey_year": 2026,
            }
            for _ in range(max(50, trainees // 200))
        ),
    )
    c.reset_sequences(
        Organisation, Institution, TrainingClass, Person, Enrollment, ExamResult, RegistryRow, Review,
        SubsidyApplication, SubsidyLine, Payment, Finding, DemandReport,
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    timings["reviews, subsidies, findings, demand"] = time.monotonic() - started
    counts = {
        "classes": n_classes,
        "institutions": n_institutions,
        "trainees": trainees,
        "exams": len(exams),
        "registry rows": len(registry),
        "subsidy lines": len(lines),
        "payments": len(payments),
        "findings": len(findings),
        "reviews": len(reviews),
    }
    return {"timings": timings, "counts": counts}


def timed_get(client, url, runs):
    client.get(url)  # warm: the first request fills caches (occupation list) and catches up
    times = []
    status = None
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        status = response.status_code
    return status, statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trainees", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="time the pages on the data already there")
    args = parser.parse_args()

    os.environ.setdefault("PEIXUN_DEBUG", "true")
    if not (os.environ.get("DATABASE_URL") or "").startswith("postgres"):
        sys.exit("DATABASE_URL must name a PostgreSQL database (the data is written with COPY)")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peixun.settings")
    os.environ["PEIXUN_TESTING"] = "true"  # no second factor for the benchmark's logins
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse
    from django.utils import timezone

    settings.ALLOWED_HOSTS = ["*"]
    setup_test_environment()
    print(f"date: {dt.date.today()}  machine: {platform.node()} {platform.machine()} {os.cpu_count()} cores")
    print(f"python {platform.python_version()}; database: {connection.vendor} {connection.pg_version}")
    moment = dt.datetime(2026, 11, 27, 15, tzinfo=dt.UTC)
    timezone.now = lambda: moment  # the data is built around 2026-11-27

    from peixun.accounts.models import User
    from peixun.reports.refresh import stats_refresh

    if not args.reuse:
        call_command("flush", "--noinput", verbosity=0)
        call_command("migrate", verbosity=0)
        call_command(
            "load_reference", stdout=open(os.devnull, "w")
        )  # flush emptied the areas and occupations
        started = time.monotonic()
        built = build(args.trainees, args.seed)
        print(f"build {args.trainees:,} trainees with COPY: {time.monotonic() - started:.1f} s")
        for name, seconds in built["timings"].items():
            print(f"  {name}: {seconds:.1f} s")
        print("  " + ", ".join(f"{k} {v:,}" for k, v in built["counts"].items()))
        started = time.monotonic()
        result = stats_refresh(full=True, today=TODAY)
        print(
            f"stats_refresh --full: {time.monotonic() - started:.1f} s — {result.outcomes:,} employment outcomes, "
            f"{result.class_facts:,} class-month rows, {result.area_facts:,} area-month rows"
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    from peixun.reports.models import AreaMonthFact, ClassMonthFact, EmploymentOutcome

    print(
        f"fact rows: ClassMonthFact {ClassMonthFact.objects.count():,}, AreaMonthFact {AreaMonthFact.objects.count():,}, "
        f"EmploymentOutcome {EmploymentOutcome.objects.count():,}"
    )
    from django.db.models import Sum

    from peixun.reports.models import InstitutionYearFact

    busiest = (
        InstitutionYearFact.objects.filter(year=2026)
        .values("occupation_code")
        .annotate(n=Sum("trainees"))
        .order_by("-n")
        .first()
    )
    occupation = busiest["occupation_code"] if busiest else ""
    pages = [
        ("region", "统计分析 (region, 2026)", reverse("reports:dashboard") + "?year=2026"),
        (
            "region",
            "统计分析 (region, one occupation)",
            reverse("reports:dashboard") + f"?year=2026&occupation={occupation}",
        ),
        (
            "region",
            "统计分析 (region, 2025, one training type)",
            reverse("reports:dashboard") + "?year=2025&type=UPGRADE",
        ),
        ("region", "各盟市对比", reverse("reports:cities") + "?year=2026"),
        ("region", "就业跟踪 (region)", reverse("reports:employment") + "?year=2026"),
        ("region", "需求对接 (region)", reverse("reports:needs") + "?year=2026"),
        (
            "region",
            "Excel export of one chart (region)",
            reverse("reports:export", args=["dashboard", "area"]) + "?year=2026",
        ),
        ("city", "统计分析 (呼和浩特市)", reverse("reports:dashboard") + "?year=2026"),
        ("city", "就业跟踪 (呼和浩特市)", reverse("reports:employment") + "?year=2026"),
        ("county", "统计分析 (新城区)", reverse("reports:dashboard") + "?year=2026"),
        ("county", "就业跟踪 (新城区)", reverse("reports:employment") + "?year=2026"),
        ("institution", "统计分析 (one institution)", reverse("reports:dashboard") + "?year=2026"),
    ]
    clients = {}
    print(f"\npage render times, {args.runs} runs after one warm-up (median / max):")
    for who, label, url in pages:
        if who not in clients:
            clients[who] = Client()
            clients[who].force_login(
                User.objects.get(username=f"b_{'inst' if who == 'institution' else who}")
            )
        status, median, worst = timed_get(clients[who], url, args.runs)
        flag = "" if median < 1 else "  ← over 1 s"
        print(f"  {label:48s} {status}  {median * 1000:7.0f} ms / {worst * 1000:7.0f} ms{flag}")

    from peixun.reports.services import follow_up_record
    from peixun.training.models import Enrollment

    outcome = EmploymentOutcome.objects.filter(status="UNKNOWN").select_related("enrollment").first()
    if outcome is not None:
        follow_up_record(
            enrollment=outcome.enrollment,
            actor=User.objects.get(username="b_region"),
            checkpoint=outcome.checkpoint,
            outcome="EMPLOYED",
            method="PHONE",
            contacted_on=min(TODAY, outcome.check_date + dt.timedelta(days=3)),
            employer_name="基准测试单位",
        )
        started = time.perf_counter()
        result = stats_refresh(today=TODAY)
        print(
            f"\none follow-up recorded, incremental refresh: {(time.perf_counter() - started) * 1000:.0f} ms "
            f"({result.classes} class)"
        )
    assert Enrollment.objects.exists()

    from peixun.reports import standard

    region = User.objects.get(username="b_region")
    for label, build_report in (
        ("统计年报 (region)", lambda: standard.annual_statistics(region, year=2026)),
        ("补贴拨付台账 (region, 2026)", lambda: standard.payment_ledger(region, year=2026)),
        ("技能提升补贴专账 (region, 2026)", lambda: standard.upgrade_account(region, year=2026)),
    ):
        started = time.perf_counter()
        report = build_report()
        built = time.perf_counter() - started
        started = time.perf_counter()
        content = standard.write_report(report)
        written = time.perf_counter() - started
        print(
            f"{label}: {report.rows:,} rows, built {built:.1f} s, written {written:.1f} s ({len(content) / 1e6:.1f} MB)"
        )


if __name__ == "__main__":
    main()
