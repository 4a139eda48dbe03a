"""Attendance ingestion and hours-counting benchmark (issue: attendance and online training).

Appends batches of ~1,000 attendance records through `attendance_append_batch` (what the device API,
the package importer and the pages call: lock the class's chain head, hash in Python,
bulk_create), then counts the hours of a 50-trainee class (40 offline lessons, one record per
lesson and trainee, online sessions) through `class_hours` (loading + count_hours) and through
count_hours alone. Prints records/s and ms.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/peixun_dev_i \\
      .venv/bin/python bench/attendance_ingest.py --batches 40 --batch-size 1000

Everything is written inside one transaction that is rolled back at the end: the database is
left as it was. Not a test: it prints figures for docs/performance.md.
"""

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


class Rollback(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--trainees", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=20, help="hours-count repetitions")
    args = parser.parse_args()

    # DEBUG off (it would log every SQL statement); PEIXUN_TESTING supplies the development keys.
    os.environ.setdefault("PEIXUN_TESTING", "true")
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = f"sqlite:///{ROOT / 'var' / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peixun.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    call_command("migrate", verbosity=0)
    print(
        f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cores; python {platform.python_version()}"
    )
    print(f"database: {connection.vendor}")
    try:
        with transaction.atomic():
            run(args)
            raise Rollback
    except Rollback:
        print("(all benchmark rows rolled back)")


def run(args) -> None:
    from peixun.accounts.models import Organisation
    from peixun.attendance import services
    from peixun.attendance.hours import SHANGHAI, count_hours, timetable
    from peixun.attendance.models import Source
    from peixun.attendance.services import AttendanceItem, OnlineItem
    from peixun.core.models import Area, CalendarDay, CalendarYear, RuleSettings
    from peixun.core.reference import ensure_rule_settings, load_areas, seed_calendar_days
    from peixun.institutions.models import Institution
    from peixun.training.models import Enrollment, Lesson, TrainingClass
    from peixun.web.demo import make_id_number

    load_areas(Area)
    ensure_rule_settings(RuleSettings)
    seed_calendar_days(CalendarYear, CalendarDay)
    area = Area.objects.get(code="150102")
    org = Organisation.objects.create(name="基准测试培训学校", kind=Organisation.Kind.INSTITUTION, area=area)
    institution = Institution.objects.create(
        organisation=org, code="BENCH0000000000001", name="基准测试培训学校", type="PRIVATE_SCHOOL", area=area
    )
    rng = random.Random(5)

    def make_class(code: str, lessons: int) -> TrainingClass:
        klass = TrainingClass.objects.create(
            code=code,
            institution=institution,
            area=area,
            occupation_code="4-10-01-05",
            occupation_name="养老护理员",
            level="5",
            training_type="EMPLOYMENT",
            start_date=dt.date(2026, 3, 2),
            end_date=dt.date(2026, 4, 30),
            total_hours=Decimal(lessons * 4) / Decimal("0.6"),
        )
        return klass

    from peixun.accounts.services import person_register

    people = []
    for i in range(args.trainees):
        number = make_id_number(rng, "150102", dt.date(1980 + i % 20, 1 + i % 12, 1 + i % 28), i % 2 == 0)
        person, _ = person_register(id_number=number, name=f"学员{i:03d}", actor=None, organisation=org)
        people.append(person)

    # --- ingestion ---------------------------------------------------------------------------
    ingest_class = make_class("BENCH-INGEST", 0)
    Enrollment.objects.bulk_create(
        Enrollment(training_class=ingest_class, person=p, category="RURAL_MIGRANT") for p in people
    )
    start = dt.datetime(2026, 3, 2, 8, 0, tzinfo=SHANGHAI)
    per_batch = []
    created = 0
    slot = 0
    for _b in range(args.batches):
        items = []
        while len(items) < args.batch_size:
            check_in = start + dt.timedelta(minutes=slot)
            slot += 1
            for p in people:
                items.append(
                    AttendanceItem(
                        person=p,
                        check_in=check_in,
                        check_out=check_in + dt.timedelta(hours=3),
                        method="FACE",
                        photo_sha256=f"{rng.getrandbits(256):064x}",
                        lat=40.81 + rng.random() / 100,
                        lon=111.66 + rng.random() / 100,
                    )
                )
                if len(items) == args.batch_size:
                    break
        t0 = time.perf_counter()
        result = services.attendance_append_batch(
            training_class=ingest_class, items=items, source=Source.DEVICE, device_code="KQ-BENCH"
        )
        per_batch.append(time.perf_counter() - t0)
        assert not result.errors, result.errors[:3]
        created += result.created
    total = sum(per_batch)
    print(
        f"attendance_append_batch: {created} records in {args.batches} batches of {args.batch_size}: "
        f"{total:.2f} s → {created / total:,.0f} records/s "
        f"(median batch {statistics.median(per_batch) * 1000:.1f} ms)"
    )
    t0 = time.perf_counter()
    again = services.attendance_append_batch(training_class=ingest_class, items=items, source=Source.DEVICE)
    print(
        f"re-push of the last batch (all duplicates): {(time.perf_counter() - t0) * 1000:.1f} ms, "
        f"duplicates={again.duplicates}"
    )
    t0 = time.perf_counter()
    problems = services.verify_attendance(ingest_class)
    print(
        f"verify_attendance of {created} records: {time.perf_counter() - t0:.2f} s, problems={len(problems)}"
    )

    # --- counting hours for a 50-trainee class ---------------------------------------------------
    lessons_n = 40
    klass = make_class("BENCH-HOURS", lessons_n)
    Enrollment.objects.bulk_create(
        Enrollment(training_class=klass, person=p, category="RURAL_MIGRANT") for p in people[:50]
    )
    lessons = []
    for i in range(lessons_n):
        day = dt.date(2026, 3, 2) + dt.timedelta(days=i // 2)
        lessons.append(
            Lesson(
                training_class=klass,
                date=day,
                start_time=dt.time(8, 30) if i % 2 == 0 else dt.time(14, 0),
                end_time=dt.time(11, 30) if i % 2 == 0 else dt.time(17, 0),
                hours=Decimal(4),
                mode="OFFLINE",
            )
        )
    Lesson.objects.bulk_create(lessons)
    for p in people[:50]:
        items = []
        for lesson in lessons:
            if rng.random() < 0.05:
                continue  # missed
            begin = dt.datetime.combine(lesson.date, lesson.start_time, tzinfo=SHANGHAI)
            items.append(
                AttendanceItem(
                    person=p,
                    check_in=begin - dt.timedelta(minutes=rng.randint(0, 10)),
                    check_out=begin + dt.timedelta(hours=3, minutes=rng.randint(-20, 10)),
                    method="FACE",
                )
            )
        services.attendance_append_batch(training_class=klass, items=items, source=Source.DEVICE)
        sessions = [
            OnlineItem(
                person=p,
                start_at=dt.datetime(2026, 4, 1 + d, 19, 0, tzinfo=SHANGHAI),
                end_at=dt.datetime(2026, 4, 1 + d, 21, 15, tzinfo=SHANGHAI),
                face_checks_passed=3,
            )
            for d in range(10)
        ]
        services.online_sessions_append_batch(
            training_class=klass, items=sessions, source=Source.PLATFORM, platform_code="BENCH"
        )
    rules = services.counting_rules()
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        rows = services.class_hours(klass, rules=rules)
        times.append(time.perf_counter() - t0)
    assert len(rows) == 50
    print(
        f"class_hours (load + count_hours) for a {len(rows)}-trainee class, {lessons_n} lessons, "
        f"{sum(len(r.records) for r in rows)} records, {sum(len(r.sessions) for r in rows)} sessions: "
        f"median {statistics.median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms"
    )
    shapes = timetable(services.lesson_shapes(klass), rules.hours.lesson_min_coverage)
    pure = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        for r in rows:
            count_hours(
                total_hours=klass.total_hours,
                lessons=shapes,
                records=r.records,
                sessions=r.sessions,
                rules=rules.hours,
            )
        pure.append(time.perf_counter() - t0)
    print(f"count_hours alone for the 50 trainees: median {statistics.median(pure) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
