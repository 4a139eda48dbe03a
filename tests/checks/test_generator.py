"""`peixun generate`: a synthetic data package whose labels.csv is the exact truth of rules.md.

The labels are checked against a second, deliberately plain reading of rules.md written here
(`_reference_findings`), over nothing but the CSV files — no peixun importer, no database.
"""

import csv
import datetime as dt
import math
from collections import Counter, defaultdict
from fractions import Fraction
from pathlib import Path

import pytest

from peixun.checks.catalog import PACKAGE_RULES
from peixun.checks.generator import (
    HISTORY_HEADER,
    LABELS_HEADER,
    PACKAGE_HEADERS,
    REGISTRY_HEADERS,
    generate,
)
from peixun.core.errors import InvalidIdNumber
from peixun.core.identity import parse_id_number
from peixun.core.reference import read_areas

N = 300


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gen") / "seed7"
    generate(trainees=N, out=out, seed=7)
    return out


def read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as fh:
        return next(csv.reader(fh))


def all_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.csv"))


# --- shape ----------------------------------------------------------------------------------------


def test_it_writes_every_file_with_exactly_the_contract_headers(package):
    for name, columns in PACKAGE_HEADERS.items():
        assert header(package / name) == list(columns), name
    for kind, columns in REGISTRY_HEADERS.items():
        assert header(package / "registries" / f"{kind}.csv") == list(columns), kind
    assert header(package / "history.csv") == list(HISTORY_HEADER)
    assert header(package / "labels.csv") == list(LABELS_HEADER) == ["rule_code", "class_code", "id_number"]
    # the contract's column lists, spelled out once more so a drift in the generator's table shows
    assert PACKAGE_HEADERS["attendance.csv"] == (
        "class_code",
        "id_number",
        "check_in",
        "check_out",
        "method",
        "photo_sha256",
        "lat",
        "lon",
    )
    assert REGISTRY_HEADERS["social_insurance"] == (
        "id_number",
        "name",
        "employer_uscc",
        "employer_name",
        "start_month",
        "end_month",
    )
    assert len(REGISTRY_HEADERS) == 8


def test_it_has_the_requested_number_of_trainees_in_classes_of_realistic_size(package):
    enrolments = read(package / "enrollments.csv")
    assert len({r["id_number"] for r in enrolments}) == N
    per_class = Counter(r["class_code"] for r in enrolments)
    assert len(per_class) == len(read(package / "classes.csv"))
    assert 10 <= sum(per_class.values()) / len(per_class) <= 40
    assert len(read(package / "institutions.csv")) >= 3


def test_every_id_number_is_valid_and_never_carries_a_zone_code(package):
    zones = {a["code"] for a in read_areas() if a["kind"] == "ZONE"}
    seen = 0
    for path in all_files(package):
        for row in read(path):
            for column in ("id_number", "teacher_id_number"):
                value = row.get(column)
                if not value:
                    continue
                try:
                    parsed = parse_id_number(value)
                except InvalidIdNumber as exc:  # pragma: no cover - the assertion message is the point
                    pytest.fail(f"{path.name}: {value}: {exc}")
                assert parsed.value == value
                assert value[:6] not in zones
                seen += 1
    assert seen > 5000


def test_id_numbers_name_one_person_each(package):
    names = defaultdict(set)
    for row in read(package / "enrollments.csv"):
        names[row["id_number"]].add(row["name"])
    for row in read(package / "teachers.csv"):
        names[row["id_number"]].add(row["name"])
    assert all(len(v) == 1 for v in names.values())
    trainees = {r["id_number"] for r in read(package / "enrollments.csv")}
    assert not trainees & {r["id_number"] for r in read(package / "teachers.csv")}


def test_every_institution_code_is_18_characters(package):
    codes = {r["institution_code"] for r in read(package / "institutions.csv")}
    assert all(len(code) == 18 for code in codes)
    for name in ("teachers.csv", "classes.csv"):
        for row in read(package / name):
            assert row["institution_code"] in codes
    listed = Counter(r["listed"] for r in read(package / "institutions.csv"))
    assert listed["Y"] > 0 and listed["N"] > 0


def test_formats_are_those_of_the_contract(package):
    for row in read(package / "attendance.csv"):
        dt.datetime.strptime(row["check_in"], "%Y-%m-%dT%H:%M:%S")
        dt.datetime.strptime(row["check_out"], "%Y-%m-%dT%H:%M:%S")
        assert row["method"] in ("FACE", "FINGERPRINT", "CARD", "MANUAL")
        assert row["photo_sha256"] == "" or len(row["photo_sha256"]) == 64
    for row in read(package / "registries" / "social_insurance.csv"):
        dt.datetime.strptime(row["start_month"], "%Y-%m")
    for row in read(package / "institutions.csv"):
        assert row["listed"] in ("Y", "N")
        assert all(code.count("-") == 3 for code in row["licensed_occupations"].split(";"))
    categories = {r["category"] for r in read(package / "enrollments.csv")}
    assert categories <= {
        "POVERTY_MONITORED",
        "GRADUATE",
        "SCHOOL_LEAVER",
        "RURAL_MIGRANT",
        "REGISTERED_UNEMPLOYED",
        "EMPLOYMENT_DIFFICULTY",
        "ENTERPRISE_EMPLOYEE",
    }
    for row in read(package / "exams.csv"):
        assert row["passed"] in ("Y", "N")


def test_lessons_lie_within_the_class_dates_and_add_up_to_its_hours(package):
    lessons = defaultdict(list)
    for row in read(package / "lessons.csv"):
        lessons[row["class_code"]].append(row)
    for c in read(package / "classes.csv"):
        rows = lessons[c["class_code"]]
        dates = sorted(r["date"] for r in rows)
        assert dates[0] == c["start_date"] and dates[-1] == c["end_date"]
        assert sum(Fraction(r["hours"]) for r in rows) == Fraction(c["total_hours"])
        assert sum(Fraction(r["hours"]) for r in rows if r["mode"] == "ONLINE") == Fraction(c["online_hours"])
        assert 60 <= int(c["total_hours"]) <= 200
        for r in rows:
            start = dt.datetime.strptime(r["start_time"], "%H:%M")
            end = dt.datetime.strptime(r["end_time"], "%H:%M")
            assert (end - start) == dt.timedelta(minutes=45 * int(r["hours"]))


def test_online_share_is_mostly_below_the_limit(package):
    classes = read(package / "classes.csv")
    online = [c for c in classes if int(c["online_hours"]) > 0]
    assert online
    assert all(int(c["online_hours"]) * 10 <= 4 * int(c["total_hours"]) for c in classes)


# --- the labels -----------------------------------------------------------------------------------


def labels(package: Path) -> set[tuple[str, str, str]]:
    return {(r["rule_code"], r["class_code"], r["id_number"]) for r in read(package / "labels.csv")}


def test_every_package_rule_is_planted_at_least_twice(package):
    counts = Counter(rule for rule, _c, _i in labels(package))
    for code in PACKAGE_RULES:
        assert counts[code] >= 2, code
    assert set(counts) <= set(PACKAGE_RULES)


def test_class_level_findings_name_no_person_and_the_teacher_finding_names_a_teacher(package):
    teachers = {r["id_number"] for r in read(package / "teachers.csv")}
    trainees = {r["id_number"] for r in read(package / "enrollments.csv")}
    for rule, _code, idn in labels(package):
        if rule in ("BATCH_CHECKIN", "OUT_OF_SCOPE", "INSTITUTION_NOT_LISTED"):
            assert idn == ""
        elif rule == "TEACHER_DOUBLE_BOOKED":
            assert idn in teachers
        else:
            assert idn in trainees


def test_labels_are_exactly_what_the_rules_find(package):
    expected = _reference_findings(package)
    got = labels(package)
    assert sorted(got - expected) == [] and sorted(expected - got) == []


def test_it_is_deterministic_for_a_seed_and_differs_between_seeds(package, tmp_path):
    generate(trainees=N, out=tmp_path / "again", seed=7)
    generate(trainees=N, out=tmp_path / "other", seed=8)
    names = [p.relative_to(package) for p in all_files(package)]
    assert names == [p.relative_to(tmp_path / "again") for p in all_files(tmp_path / "again")]
    for name in names:
        assert (package / name).read_bytes() == (tmp_path / "again" / name).read_bytes(), name
    assert (package / "attendance.csv").read_bytes() != (tmp_path / "other" / "attendance.csv").read_bytes()
    assert (package / "labels.csv").read_bytes() != (tmp_path / "other" / "labels.csv").read_bytes()


# --- near misses: present in the data, absent from the labels ---------------------------------------


def _classes(package):
    return {c["class_code"]: c for c in read(package / "classes.csv")}


def test_a_death_the_day_after_the_class_ends_is_no_finding(package):
    classes = _classes(package)
    deaths = {r["id_number"]: r["death_date"] for r in read(package / "registries" / "death.csv")}
    found = labels(package)
    near = [
        e
        for e in read(package / "enrollments.csv")
        if e["id_number"] in deaths
        and dt.date.fromisoformat(deaths[e["id_number"]])
        == dt.date.fromisoformat(classes[e["class_code"]]["end_date"]) + dt.timedelta(days=1)
    ]
    assert near
    assert all(("DECEASED", e["class_code"], e["id_number"]) not in found for e in near)


def test_a_16th_birthday_on_the_start_date_is_no_finding(package):
    classes = _classes(package)
    found = labels(package)
    near = []
    for e in read(package / "enrollments.csv"):
        birth = parse_id_number(e["id_number"]).birth_date
        start = dt.date.fromisoformat(classes[e["class_code"]]["start_date"])
        if birth.replace(year=birth.year + 16) == start:
            near.append(e)
    assert near
    assert all(("AGE_UNDER_16", e["class_code"], e["id_number"]) not in found for e in near)


def test_registry_periods_ending_the_day_before_the_class_are_no_findings(package):
    classes = _classes(package)
    found = labels(package)
    enrolled = defaultdict(list)
    for e in read(package / "enrollments.csv"):
        enrolled[e["id_number"]].append(e)

    def day_before_start(rows, column, rule, category=None):
        hits = []
        for r in rows:
            for e in enrolled.get(r["id_number"], ()):
                start = dt.date.fromisoformat(classes[e["class_code"]]["start_date"])
                if r[column] and dt.date.fromisoformat(r[column]) == start - dt.timedelta(days=1):
                    if category is None or e["category"] == category:
                        hits.append((rule, e["class_code"], e["id_number"]))
        return hits

    payroll = day_before_start(
        read(package / "registries" / "public_payroll.csv"), "end_date", "PUBLIC_PAYROLL"
    )
    business = day_before_start(
        read(package / "registries" / "business_license.csv"),
        "revoked_date",
        "UNEMPLOYED_BUT_BUSINESS",
        "REGISTERED_UNEMPLOYED",
    )
    assert payroll and business
    assert not set(payroll + business) & found
    # an unemployment registration ending on the start date still covers it
    covered = []
    for r in read(package / "registries" / "unemployment_registration.csv"):
        for e in enrolled.get(r["id_number"], ()):
            if (
                r["end_date"] == classes[e["class_code"]]["start_date"]
                and e["category"] == "REGISTERED_UNEMPLOYED"
            ):
                covered.append(("UNEMPLOYED_NOT_REGISTERED", e["class_code"], e["id_number"]))
    assert covered and not set(covered) & found


def test_exactly_8_online_hours_a_day_and_exactly_40_percent_are_no_findings(package):
    classes = _classes(package)
    found = labels(package)
    per_day = defaultdict(Fraction)
    per_trainee = defaultdict(Fraction)
    for s in read(package / "online_sessions.csv"):
        if s["face_checks_failed"] != "0":
            continue
        start = dt.datetime.fromisoformat(s["start_at"])
        hours = Fraction(int((dt.datetime.fromisoformat(s["end_at"]) - start).total_seconds()), 2700)
        per_day[(s["class_code"], s["id_number"], start.date())] += hours
        per_trainee[(s["class_code"], s["id_number"])] += hours
    busiest = defaultdict(Fraction)
    for (c, i, _d), hours in per_day.items():
        busiest[(c, i)] = max(busiest[(c, i)], hours)
    eight = [k for k, v in busiest.items() if v == 8]
    assert eight and all(("ONLINE_DAILY_EXCEEDED", c, i) not in found for c, i in eight)
    forty = [
        k
        for k, v in per_trainee.items()
        if v == Fraction(2, 5) * int(classes[k[0]]["total_hours"])
        and all(h <= 8 for (c, i, _d), h in per_day.items() if (c, i) == k)
    ]
    assert forty and all(("ONLINE_SHARE_EXCEEDED", c, i) not in found for c, i in forty)


def test_attendance_covering_exactly_90_percent_counts(package):
    lessons = defaultdict(list)
    for r in read(package / "lessons.csv"):
        if r["mode"] == "OFFLINE":
            start = dt.datetime.fromisoformat(f"{r['date']}T{r['start_time']}")
            end = dt.datetime.fromisoformat(f"{r['date']}T{r['end_time']}")
            lessons[r["class_code"]].append((start, end))
    exact = 0
    for a in read(package / "attendance.csv"):
        ci, co = dt.datetime.fromisoformat(a["check_in"]), dt.datetime.fromisoformat(a["check_out"])
        for start, end in lessons[a["class_code"]]:
            covered = (min(co, end) - max(ci, start)).total_seconds()
            if covered * 10 == (end - start).total_seconds() * 9:
                exact += 1
    assert exact >= 2


def test_touching_intervals_are_present_and_no_findings(package):
    found = labels(package)
    by_person = defaultdict(list)
    for a in read(package / "attendance.csv"):
        by_person[a["id_number"]].append((a["check_in"], a["check_out"], a["class_code"]))
    touching = [
        (idn, x[2], y[2])
        for idn, recs in by_person.items()
        for x in recs
        for y in recs
        if x[2] != y[2] and x[1] == y[0]
    ]
    assert touching
    for idn, cx, cy in touching:
        assert ("OVERLAPPING_CLASSES", cx, idn) not in found and ("OVERLAPPING_CLASSES", cy, idn) not in found


def test_training_again_at_a_higher_level_is_no_repeat(package):
    classes = _classes(package)
    found = labels(package)
    history = defaultdict(list)
    for h in read(package / "history.csv"):
        history[h["id_number"]].append(h)
    upgrades = []
    for e in read(package / "enrollments.csv"):
        c = classes[e["class_code"]]
        for h in history[e["id_number"]]:
            if h["occupation_code"] == c["occupation_code"] and c["level"].isdigit() and h["level"].isdigit():
                if int(h["level"]) > int(c["level"]):
                    upgrades.append((e["class_code"], e["id_number"]))
    assert upgrades
    assert all(("REPEAT_TRAINING", c, i) not in found for c, i in upgrades)


# --- a second reading of rules.md over the files ------------------------------------------------------


def _d(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _t(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _covers(start, end, day) -> bool:
    return start <= day and (end is None or day <= end)


def _overlaps(a0, a1, b0, b1) -> bool:
    return a0 < b1 and b0 < a1


def _higher_or_same(other: str, this: str) -> bool:
    if other.isdigit() and this.isdigit():
        return int(other) <= int(this)
    return other == this


def _reference_findings(root: Path) -> set[tuple[str, str, str]]:  # noqa: C901 - one rule after another
    classes = {c["class_code"]: c for c in read(root / "classes.csv")}
    institutions = {i["institution_code"]: i for i in read(root / "institutions.csv")}
    enrolments = read(root / "enrollments.csv")
    reg = {kind: read(root / "registries" / f"{kind}.csv") for kind in REGISTRY_HEADERS}
    history = defaultdict(list)
    for h in read(root / "history.csv"):
        history[h["id_number"]].append(h)
    by_id = {kind: defaultdict(list) for kind in reg}
    for kind, rows in reg.items():
        for r in rows:
            by_id[kind][r["id_number"]].append(r)
    lessons = defaultdict(list)
    for r in read(root / "lessons.csv"):
        start = _t(f"{r['date']}T{r['start_time']}")
        end = _t(f"{r['date']}T{r['end_time']}")
        lessons[r["class_code"]].append((start, end, Fraction(r["hours"]), r["mode"], r["teacher_id_number"]))
    attendance = defaultdict(list)  # (class, id) → records
    for a in read(root / "attendance.csv"):
        attendance[(a["class_code"], a["id_number"])].append(a)
    sessions = defaultdict(list)
    for s in read(root / "online_sessions.csv"):
        sessions[(s["class_code"], s["id_number"])].append(s)
    exams = {(x["class_code"], x["id_number"]): x for x in read(root / "exams.csv")}
    person_classes = defaultdict(list)
    for e in enrolments:
        person_classes[e["id_number"]].append(e["class_code"])

    found: set[tuple[str, str, str]] = set()
    for code, c in classes.items():
        inst = institutions[c["institution_code"]]
        if c["occupation_code"] not in inst["licensed_occupations"].split(";"):
            found.add(("OUT_OF_SCOPE", code, ""))
        if inst["listed"] != "Y":
            found.add(("INSTITUTION_NOT_LISTED", code, ""))
    check_ins = Counter((a["class_code"], a["check_in"]) for recs in attendance.values() for a in recs)
    for (code, _moment), n in check_ins.items():
        if n >= 10:
            found.add(("BATCH_CHECKIN", code, ""))

    for e in enrolments:
        code, idn, category = e["class_code"], e["id_number"], e["category"]
        c = classes[code]
        start, end = _d(c["start_date"]), _d(c["end_date"])
        total = Fraction(c["total_hours"])

        def add(rule, code=code, idn=idn):
            found.add((rule, code, idn))

        birth = parse_id_number(idn).birth_date
        if (start.year - birth.year - ((start.month, start.day) < (birth.month, birth.day))) < 16:
            add("AGE_UNDER_16")
        recs = attendance[(code, idn)]
        ses = sessions[(code, idn)]
        exam = exams.get((code, idn))
        dates = [_t(a["check_in"]).date() for a in recs] + [_t(s["start_at"]).date() for s in ses]
        if exam:
            dates.append(_d(exam["exam_date"]))
        for r in by_id["death"][idn]:
            death = _d(r["death_date"])
            if death < start or any(death < x for x in dates):
                add("DECEASED")
        if any(
            _overlaps_dates(_d(r["start_date"]), _d(r["end_date"]), start, end)
            for r in by_id["public_payroll"][idn]
        ):
            add("PUBLIC_PAYROLL")
        if category == "REGISTERED_UNEMPLOYED" and not any(
            _covers(_d(r["registered_date"]), _d(r["end_date"]), start)
            for r in by_id["unemployment_registration"][idn]
        ):
            add("UNEMPLOYED_NOT_REGISTERED")
        if category in ("REGISTERED_UNEMPLOYED", "RURAL_MIGRANT", "SCHOOL_LEAVER"):
            month = start.strftime("%Y-%m")
            if any(
                _covers(r["start_month"], r["end_month"] or None, month)
                for r in by_id["social_insurance"][idn]
            ):
                add("UNEMPLOYED_BUT_INSURED")
        if category == "REGISTERED_UNEMPLOYED" and c["training_type"] != "STARTUP":
            if any(
                _covers(_d(r["established_date"]), _d(r["revoked_date"]), start)
                for r in by_id["business_license"][idn]
            ):
                add("UNEMPLOYED_BUT_BUSINESS")
        for r in by_id["hospitalization"][idn]:
            if any(
                _covers(_d(r["admit_date"]), _d(r["discharge_date"]), _t(a["check_in"]).date()) for a in recs
            ):
                add("HOSPITALIZED_PRESENT")
        occ, level = c["occupation_code"], c["level"]
        if any(h["occupation_code"] == occ and _higher_or_same(h["level"], level) for h in history[idn]):
            add("REPEAT_TRAINING")
        for other in person_classes[idn]:
            o = classes[other]
            if (
                other != code
                and o["occupation_code"] == occ
                and _higher_or_same(o["level"], level)
                and _d(o["start_date"]) <= start
            ):
                add("REPEAT_TRAINING")
        for r in by_id["skill_certificate"][idn]:
            if (
                r["occupation_code"] == occ
                and _higher_or_same(r["level"], level)
                and _d(r["issue_date"]) < start
            ):
                add("ALREADY_CERTIFIED")
        ordered = sorted(person_classes[idn], key=lambda x: (classes[x]["start_date"], x))
        if len(history[idn]) + ordered.index(code) + 1 >= 4:
            add("LIFETIME_CAP")
        for other in person_classes[idn]:
            if other == code:
                continue
            for a in recs:
                for b in attendance[(other, idn)]:
                    if _overlaps(
                        _t(a["check_in"]), _t(a["check_out"]), _t(b["check_in"]), _t(b["check_out"])
                    ):
                        add("OVERLAPPING_CLASSES")
        offline = [(s, t) for s, t, _h, mode, _tid in lessons[code] if mode == "OFFLINE"]
        for a in recs:
            if not any(_overlaps(_t(a["check_in"]), _t(a["check_out"]), s, t) for s, t in offline):
                add("ATTENDANCE_OUTSIDE_SCHEDULE")
            if a["lat"]:
                if (
                    _distance(float(c["site_lat"]), float(c["site_lon"]), float(a["lat"]), float(a["lon"]))
                    > 1000
                ):
                    add("LOCATION_MISMATCH")
        # hours (rules.md, "How hours are counted")
        offline_hours = Fraction(0)
        for s, t, hours, mode, _tid in lessons[code]:
            if mode != "OFFLINE":
                continue
            length = (t - s).total_seconds()
            if any(
                (min(_t(a["check_out"]), t) - max(_t(a["check_in"]), s)).total_seconds()
                >= Fraction(9, 10) * length
                for a in recs
            ):
                offline_hours += hours
        by_day = defaultdict(Fraction)
        for s in ses:
            if int(s["face_checks_failed"]) == 0:
                minutes = Fraction(int((_t(s["end_at"]) - _t(s["start_at"])).total_seconds()), 60)
                by_day[_t(s["start_at"]).date()] += minutes / 45
        capped = sum((min(h, Fraction(8)) for h in by_day.values()), Fraction(0))
        if capped > Fraction(2, 5) * total:
            add("ONLINE_SHARE_EXCEEDED")
        if any(h > 8 for h in by_day.values()):
            add("ONLINE_DAILY_EXCEEDED")
        counted = offline_hours + min(capped, Fraction(2, 5) * total)
        if exam and counted / total < Fraction(95, 100):
            add("ATTENDANCE_BELOW_THRESHOLD")
        for i, s in enumerate(ses):
            s0, s1 = _t(s["start_at"]), _t(s["end_at"])
            if int(s["face_checks_failed"]) > 0 or (
                (s1 - s0) > dt.timedelta(minutes=60) and s["face_checks_passed"] == "0"
            ):
                add("ONLINE_FACE_FAILED")
            if any(
                _overlaps(s0, s1, _t(o["start_at"]), _t(o["end_at"])) for j, o in enumerate(ses) if j != i
            ):
                add("ONLINE_CONCURRENT")
            for other in person_classes[idn]:
                if any(
                    _overlaps(s0, s1, _t(a["check_in"]), _t(a["check_out"])) for a in attendance[(other, idn)]
                ):
                    add("ONLINE_CONCURRENT")

    # teachers: same date, overlapping times, two classes
    by_teacher = defaultdict(list)
    for code, rows in lessons.items():
        for s, t, _h, _mode, tid in rows:
            by_teacher[tid].append((s, t, code))
    for tid, rows in by_teacher.items():
        for s, t, code in rows:
            for s2, t2, code2 in rows:
                if code2 != code and _overlaps(s, t, s2, t2):
                    found.add(("TEACHER_DOUBLE_BOOKED", code, tid))
    # photos
    photo_uses = defaultdict(list)
    for (code, idn), recs in attendance.items():
        for a in recs:
            if a["photo_sha256"]:
                photo_uses[a["photo_sha256"]].append((code, idn, _t(a["check_in"]).date()))
    for uses in photo_uses.values():
        for code, idn, day in uses:
            if any(i != idn or d != day for _c, i, d in uses):
                found.add(("DUPLICATE_PHOTO", code, idn))
    # IPs: at the start of each session, who is online from that IP
    by_ip = defaultdict(list)
    for (code, idn), rows in sessions.items():
        for s in rows:
            by_ip[s["ip"]].append((_t(s["start_at"]), _t(s["end_at"]), idn, code))
    for rows in by_ip.values():
        for moment, *_ in rows:
            online = [(i, c) for s, t, i, c in rows if s <= moment < t]
            if len({i for i, _c in online}) >= 5:
                for idn, code in online:
                    found.add(("ONLINE_IP_FARM", code, idn))
    return found


def _overlaps_dates(a0, a1, b0, b1) -> bool:
    """Inclusive date periods; an empty end is open."""
    return a0 <= b1 and (a1 is None or b0 <= a1)


def _distance(lat1, lon1, lat2, lon2) -> float:
    """Great-circle distance on a 6371 km sphere (the generator uses another radius on purpose)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371000 * math.asin(math.sqrt(a))
