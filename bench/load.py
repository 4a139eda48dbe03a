"""Load test (issue #9): gunicorn + PostgreSQL holding N trainees, 100 simulated users on the
reviewers' list pages and class pages while devices push attendance through the signed API.

    createdb -h 127.0.0.1 -U postgres peixun_bench_load   # once
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/peixun_bench_load \\
      .venv/bin/python bench/load.py --trainees 1000000

What it does:

1. Data (skipped with --reuse). The database named by DATABASE_URL is emptied, migrated and given
   the reference data, then filled by the 1,000,000-trainee builder of bench/dashboards.py (COPY:
   institutions, classes, people, rosters, exams, reviews, subsidies, findings …). This script adds,
   also with COPY, the lessons (20 four-hour lessons on ten consecutive days) and the device
   attendance records of every class in training or completed in peixun (status APPROVED or
   COMPLETED; the imported ones have none): one record per trainee and past lesson, each sealed into
   its class's hash chain by `peixun.attendance.chain.seal_canonical`, written as COPY text by
   `attendance.services.copy_lines` like the device API's records (seq, prev_hash, hash, and a chain head
   per class). Making and sealing a record costs ~60 µs of Python (~30 µs the seal itself), and
   there are about 6 million at 1,000,000 trainees, so classes are sealed in a multiprocessing pool
   (--jobs) while the parent streams the rows into COPY (2 cores: ~15,000 records/s, so several
   minutes at 1,000,000 trainees on top of the dashboards builder's). Then accounts for the simulated users are added (officials of the region, of the cities
   and counties with most classes, and operators of the busiest institutions; one Argon2 hash of
   dashboards.PASSWORD computed once), and VACUUM ANALYZE runs.
2. Server: `collectstatic` into var/bench-load/static (whitenoise compresses every file with gzip
   and brotli: 7 minutes on a busy 2-core machine, so it is skipped while that output is newer than
   every source file), then gunicorn (gthread: --workers × --threads) with production settings: PEIXUN_DEBUG and PEIXUN_TESTING unset, SECRET_KEY and
   PEIXUN_IDENTITY_KEY given explicitly (the same ones this script builds the data with: ID numbers
   and device secrets are encrypted with the identity key; override both in the environment, and
   keep them for --reuse), PEIXUN_COLLECTED_STATIC=true (whitenoise serves the hashed files),
   persistent database connections (PEIXUN_DB_CONN_MAX_AGE=60), Argon2 passwords. The one
   departure: PEIXUN_REQUIRE_2FA=false, since the simulated officials cannot type TOTP codes.
3. Users: each logs in through the real form (GET the form, POST with its CSRF token), loads the
   page's static files once (a cold browser cache), then loops with think time (--think-min …
   --think-max seconds) over its role's pages: 待办事项, the class list (filters, later pages),
   问题线索, 补贴申请, 公示异议 and 审核时效 for officials, and class pages (basic tab, then roster,
   schedule, hours, exams or history) of classes in their own area or institution. Users start
   evenly over --ramp-up seconds; the figures are those of the --duration seconds that follow
   once every user has logged in and loaded the static files (at most --settle-limit seconds later).
4. Attendance: --attendance-clients devices of a new institution (api_ingest.setup_data: classes of
   50 trainees with real ID numbers, a registered device) post signed batches of 1,000 records to
   POST /api/v1/devices/attendance, paced to --attendance-rate records/s in total (a client that
   falls behind sends back-to-back). Each client has its own classes (no chain-head contention).
   Every run adds these records to the database (up to rate × duration).
5. Prints the machine, load average before, gunicorn settings, latency per page kind (count, p50,
   p95, p99, max, errors), requests/s, attendance records/s and batch latency, then the query count
   of one request of each page kind (Django test client in this process, after the load).

The load generator is the standard library only (threads, http.client with keep-alive
connections, one connection per user): the users spend their time sleeping, and the client's own
CPU time is printed at the end so you can see it did not take a 2-core machine away from the server.
A non-2xx/3xx answer is an error, and so is a redirect where a page was expected (to the login page,
or a wrong URL); the first few are printed.
Not a test: it prints figures for docs/performance.md.
"""

import argparse
import base64
import datetime as dt
import http.client
import json
import multiprocessing
import os
import platform
import random
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import api_ingest  # noqa: E402  (bench/api_ingest.py: device registration, signed requests)
import dashboards  # noqa: E402  (bench/dashboards.py: the 1,000,000-trainee builder)

from peixun.attendance import chain  # noqa: E402  (plain Python: no Django needed to import it)

# Fixed keys for the benchmark database (production-like: given explicitly, not the development ones).
BENCH_SECRET_KEY = "peixun-load-bench-secret-key-not-for-production-0123456789"
BENCH_IDENTITY_KEY = base64.urlsafe_b64encode(b"peixun-load-bench-identity-key32").decode()
VAR_DIR = ROOT / "var" / "bench-load"
TODAY = dashboards.TODAY
SHANGHAI_OFFSET = dt.timedelta(hours=8)
LESSON_DAYS = 10  # two four-hour lessons a day: 80 hours, the classes' total_hours
LESSON_TIMES = ((dt.time(8, 30), dt.time(11, 30)), (dt.time(14, 0), dt.time(17, 0)))
IN_PEIXUN = ("APPROVED", "COMPLETED")
CLASS_TABS = ("roster", "schedule", "hours", "hours", "exams", "history")
API_PATH = api_ingest.PATH


# --- data ------------------------------------------------------------------------------------------


def lesson_slots(start: dt.date):
    """(date, start time, end time) of a class's lessons: ten consecutive days from its start."""
    for day in range(LESSON_DAYS):
        date = start + dt.timedelta(days=day)
        for begin, end in LESSON_TIMES:
            yield date, begin, end


def _utc(date: dt.date, at: dt.time) -> dt.datetime:
    return dt.datetime.combine(date, at, tzinfo=dt.UTC) - SHANGHAI_OFFSET


class _Record:
    __slots__ = (*chain.ATTENDANCE_FIELDS, "seq", "prev_hash", "hash")


def seal_classes(task):
    """Worker: the sealed attendance rows of some classes as COPY text (in the columns of
    `services.copy_columns`, written as the device API writes them), and their chain heads."""
    from peixun.attendance.services import copy_lines

    seed, classes = task
    lines, heads, count = [], [], 0
    for class_id, start_ordinal, people in classes:
        rng = random.Random(seed * 1_000_003 + class_id)
        lat, lon = 40.0 + rng.random() * 3, 108.0 + rng.random() * 10
        device = f"DVB{class_id % 9973:05d}"
        diligence = {pid: (0.97 if rng.random() < 0.9 else 0.75) for pid in people}
        records = []
        for date, begin, end in lesson_slots(dt.date.fromordinal(start_ordinal)):
            if date >= TODAY:
                break
            opens, closes = _utc(date, begin), _utc(date, end)
            day = []
            for pid in people:
                if rng.random() > diligence[pid]:
                    continue
                r = _Record()
                r.training_class_id = class_id
                r.person_id = pid
                r.check_in = opens - dt.timedelta(seconds=rng.randrange(60, 1200))
                r.check_out = (
                    None if rng.random() < 0.03 else closes + dt.timedelta(seconds=rng.randrange(0, 900))
                )
                r.method = "FACE" if rng.random() < 0.9 else "CARD"
                r.photo_sha256 = f"{rng.getrandbits(256):064x}" if r.method == "FACE" else ""
                r.lat, r.lon = round(lat + rng.random() * 1e-3, 6), round(lon + rng.random() * 1e-3, 6)
                r.source, r.device_code, r.corrects_id, r.reason, r.recorded_by_id = (
                    "DEVICE",
                    device,
                    None,
                    "",
                    None,
                )
                r.recorded_at = (r.check_out or r.check_in) + dt.timedelta(seconds=rng.randrange(1, 120))
                day.append(r)
            day.sort(key=lambda r: r.check_in)  # a device uploads in check-in order
            records.extend(day)
        if not records:
            continue
        last_seq, last_hash, canonical = chain.seal_canonical(
            chain.ATTENDANCE, records, last_seq=0, last_hash=chain.GENESIS
        )
        heads.append((class_id, last_seq, last_hash))
        count += len(records)
        lines.extend(copy_lines(records, canonical))
    text = ("\n".join(lines) + "\n").encode() if lines else b""
    return text, heads, count


def add_lessons_and_attendance(seed: int, jobs: int) -> dict:
    from django.db import connection

    from peixun.attendance.models import AttendanceRecord, ChainHead
    from peixun.attendance.services import copy_columns
    from peixun.training.models import Enrollment, Lesson, TrainingClass

    c = dashboards.Copier(connection)
    timings, counts = {}, {}
    started = time.monotonic()
    classes = list(
        TrainingClass.objects.filter(status__in=IN_PEIXUN)
        .order_by("id")
        .values_list("id", "start_date", "total_hours")
    )
    counts["classes with lessons and attendance"] = len(classes)
    counts["lessons"] = c.copy(
        Lesson,
        (
            {
                "training_class_id": cid,
                "date": date,
                "start_time": begin,
                "end_time": end,
                "hours": Decimal("4"),
                "mode": "OFFLINE",
            }
            for cid, start, _hours in classes
            for date, begin, end in lesson_slots(start)
        ),
    )
    timings["lessons"] = time.monotonic() - started

    started = time.monotonic()
    members: dict[int, list[int]] = {}
    rows = Enrollment.objects.filter(training_class__status__in=IN_PEIXUN, removed_at__isnull=True)
    for cid, pid in rows.order_by("training_class_id", "id").values_list("training_class_id", "person_id"):
        members.setdefault(cid, []).append(pid)
    names = copy_columns(AttendanceRecord, chain.ATTENDANCE)
    todo = [(cid, start.toordinal(), members.get(cid, [])) for cid, start, _h in classes]
    chunks = [(seed, todo[i : i + 40]) for i in range(0, len(todo), 40)]
    heads, records = [], 0
    with multiprocessing.get_context("fork").Pool(jobs) as pool, connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {AttendanceRecord._meta.db_table} ({names}) FROM STDIN") as copy:
            for text, chunk_heads, n in pool.imap(seal_classes, chunks):
                if text:
                    copy.write(text)
                heads.extend(chunk_heads)
                records += n
    counts["attendance records"] = records
    c.copy(
        ChainHead,
        (
            {"training_class_id": cid, "kind": "ATTENDANCE", "last_seq": seq, "last_hash": h}
            for cid, seq, h in heads
        ),
    )
    timings[f"attendance (sealed in a pool of {jobs}, COPY)"] = time.monotonic() - started
    return {"timings": timings, "counts": counts}


def verify_some_chains(n: int = 3) -> str:
    from peixun.attendance.services import verify_attendance
    from peixun.training.models import TrainingClass

    classes = list(TrainingClass.objects.filter(status__in=IN_PEIXUN).order_by("?")[:n])
    problems = [p for k in classes for p in verify_attendance(k)]
    return f"{len(classes)} random chains verified: " + (
        "intact" if not problems else f"BROKEN {problems[:3]}"
    )


def ensure_accounts(users: int) -> list[dict]:
    """The accounts of the simulated users (created once; --reuse finds them): 10% region, 20% city,
    35% county reviewers, the rest institution operators. Each comes with the pages it opens."""
    from django.contrib.auth.hashers import make_password
    from django.db.models import Count

    from peixun.accounts.models import Organisation, User
    from peixun.accounts.roles import Role
    from peixun.accounts.scope import restrict
    from peixun.core.models import Area
    from peixun.institutions.models import Institution
    from peixun.training.models import TrainingClass

    n_region = max(1, users // 10)
    n_city = max(1, users // 5)
    n_county = max(1, users * 35 // 100)
    n_inst = max(1, users - n_region - n_city - n_county)
    busy_areas = [
        a["area_id"]
        for a in TrainingClass.objects.filter(status__in=IN_PEIXUN)
        .values("area_id")
        .annotate(n=Count("id"))
        .order_by("-n", "area_id")
    ]
    areas = Area.objects.in_bulk(busy_areas)
    counties = [areas[a] for a in busy_areas if areas[a].kind != Area.Kind.CITY]
    cities = []
    for county in counties:
        city = county.parent if county.kind != Area.Kind.COUNTY_DIRECT else None
        if city is not None and city.kind == Area.Kind.CITY and city not in cities:
            cities.append(city)
    institutions = [
        i["institution_id"]
        for i in TrainingClass.objects.filter(status__in=IN_PEIXUN)
        .values("institution_id")
        .annotate(n=Count("id"))
        .order_by("-n", "institution_id")[:n_inst]
    ]
    region_org = Organisation.objects.get(kind="REGION_DEPT")
    hashed = None
    plan = [("region", Role.REGION_ADMIN, lambda k: region_org) for _ in range(n_region)]

    def bureau(kind, area, name):
        org = Organisation.objects.filter(kind=kind, area=area).order_by("id").first()
        return org or Organisation.objects.create(name=name, kind=kind, area=area)

    plan += [
        (
            "city",
            Role.CITY_ADMIN,
            lambda k: bureau("CITY_BUREAU", cities[k % len(cities)], f"{cities[k % len(cities)].name}人社局"),
        )
        for _ in range(n_city)
    ]
    plan += [
        (
            "county",
            Role.REVIEWER,
            lambda k: bureau(
                "COUNTY_BUREAU",
                counties[k % len(counties)],
                f"{counties[k % len(counties)].name}就业服务中心",
            ),
        )
        for _ in range(n_county)
    ]
    inst_orgs = dict(Institution.objects.filter(id__in=institutions).values_list("id", "organisation_id"))
    plan += [
        (
            "institution",
            Role.INSTITUTION_OPERATOR,
            lambda k: Organisation.objects.get(id=inst_orgs[institutions[k % len(institutions)]]),
        )
        for _ in range(n_inst)
    ]
    accounts, per_kind = [], {}
    for kind, role, org_of in plan:
        k = per_kind[kind] = per_kind.get(kind, -1) + 1
        username = f"load_{kind}_{k + 1:03d}"
        user = User.objects.filter(username=username).select_related("organisation__area").first()
        if user is None:
            hashed = hashed or make_password(dashboards.PASSWORD)
            user = User(
                username=username, role=role, display_name=f"压测{kind}{k + 1}", organisation=org_of(k)
            )
            user.password = hashed
            user.save()
        scoped = restrict(TrainingClass.objects.all(), user)
        rng = random.Random(username)
        ours = list(scoped.filter(status__in=IN_PEIXUN).order_by("?").values_list("id", flat=True)[:60])
        other = list(scoped.exclude(status__in=IN_PEIXUN).order_by("?").values_list("id", flat=True)[:15])
        if not ours and not other:
            raise SystemExit(f"{username} ({user.organisation}) sees no class: no page to open")
        accounts.append(
            {
                "username": username,
                "kind": kind,
                "org": str(user.organisation),
                "classes": ours or other,
                "other_classes": other or ours,
                "pages": pages_for(kind, scoped.count(), rng),
            }
        )
    return accounts


def pages_for(kind: str, class_count: int, rng) -> list[tuple[str, str, int]]:
    """(page kind, URL, weight) of the list pages of a role; class pages are added by the user loop."""
    last_page = max(1, (class_count + 49) // 50)
    pages = [
        ("待办事项 home", "/", 20),
        ("class list", "/classes/", 14),
        ("class list", "/classes/?status=COMPLETED", 4),
        ("class list", "/classes/?status=APPROVED", 4),
        ("class list", f"/classes/?page={rng.randint(1, min(last_page, 20))}", 3),
        ("subsidy list", "/subsidies/", 8),
        ("subsidy list", "/subsidies/?status=NOTICE", 2),
    ]
    if kind != "institution":
        pages += [
            ("findings list", "/checks/findings/", 7),
            ("findings list", "/checks/findings/?status=OPEN", 3),
            ("审核时效 workload", "/workload/", 3),
        ]
    if kind in ("city", "county"):
        pages.append(("objections list", "/subsidies/objections/", 3))
    return pages


def empty_and_build(trainees: int, seed: int, jobs: int) -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("flush", "--noinput", verbosity=0)
    call_command("load_reference", stdout=open(os.devnull, "w"))  # noqa: SIM115 (flush emptied the areas)
    started = time.monotonic()
    built = dashboards.build(trainees, seed)
    print(f"bench/dashboards.py build of {trainees:,} trainees (COPY): {time.monotonic() - started:.1f} s")
    for name, seconds in built["timings"].items():
        print(f"  {name}: {seconds:.1f} s")
    print("  " + ", ".join(f"{k} {v:,}" for k, v in built["counts"].items()))
    started = time.monotonic()
    added = add_lessons_and_attendance(seed, jobs)
    print(f"lessons and attendance (COPY, hash chains): {time.monotonic() - started:.1f} s")
    for name, seconds in added["timings"].items():
        print(f"  {name}: {seconds:.1f} s")
    print("  " + ", ".join(f"{k} {v:,}" for k, v in added["counts"].items()))


def vacuum_analyze() -> float:
    from django.db import connection

    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return time.monotonic() - started


# --- the server ------------------------------------------------------------------------------------


def server_env(args) -> dict:
    env = dict(os.environ)
    env.pop("PEIXUN_TESTING", None)
    env.update(
        PEIXUN_DEBUG="false",
        DJANGO_SETTINGS_MODULE="peixun.settings",
        SECRET_KEY=os.environ["SECRET_KEY"],
        PEIXUN_IDENTITY_KEY=os.environ["PEIXUN_IDENTITY_KEY"],
        PEIXUN_REQUIRE_2FA="false",
        PEIXUN_COLLECTED_STATIC="true",
        PEIXUN_VAR_DIR=str(VAR_DIR),
        PEIXUN_DB_CONN_MAX_AGE=str(args.conn_max_age),
        PEIXUN_LOG_LEVEL="WARNING",
    )
    return env


def static_is_fresh() -> bool:
    """The collected files (whitenoise's manifest) are newer than every source static file."""
    from django.contrib.staticfiles import finders

    manifest = VAR_DIR / "static" / "staticfiles.json"
    if not manifest.exists():
        return False
    newest = max(
        (storage.path(path) for finder in finders.get_finders() for path, storage in finder.list([])),
        key=lambda p: os.stat(p).st_mtime,
    )
    return os.stat(newest).st_mtime < manifest.stat().st_mtime


def collectstatic(env: dict) -> float:
    started = time.monotonic()
    subprocess.run(
        [str(Path(sys.executable).parent / "peixun"), "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    return time.monotonic() - started


def start_server(args, env: dict) -> tuple[subprocess.Popen, Path]:
    log = VAR_DIR / "gunicorn.log"
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "peixun.wsgi",
        "-w",
        str(args.workers),
        "--threads",
        str(args.threads),
        "-b",
        f"127.0.0.1:{args.port}",
        "--keep-alive",
        str(args.keep_alive),
        "--timeout",
        "120",
        "--no-control-socket",  # gunicorn 27's default socket is per user: another gunicorn may hold it
    ]
    with open(log, "w") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited ({server.returncode}); see {log}:\n{log.read_text()[-3000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return server, log
        except OSError:
            pass
        time.sleep(0.5)
    stop_server(server)
    raise SystemExit(f"gunicorn did not answer /healthz within 90 s; see {log}")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)  # graceful: the master stops its workers
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


# --- the load generator ----------------------------------------------------------------------------

RETRYABLE = (
    http.client.RemoteDisconnected,
    http.client.CannotSendRequest,
    ConnectionResetError,
    BrokenPipeError,
)
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
STATIC_REF = re.compile(r'(?:href|src)="(/static/[^"]+)"')


class Browser:
    """One user's keep-alive connection and cookie jar (sends the Secure cookies over plain HTTP
    as the TLS proxy in front of production would)."""

    def __init__(self, port: int):
        self.port = port
        self.conn = None
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
            except RETRYABLE:
                self.close()  # the server closed an idle keep-alive connection: reconnect once
                if attempt:
                    raise
                continue
            for raw in response.headers.get_all("Set-Cookie") or []:
                jar = SimpleCookie()
                jar.load(raw)
                for name, morsel in jar.items():
                    if morsel["max-age"] == "0" or not morsel.value and morsel["expires"]:
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
            if response.will_close:
                self.close()
            return response.status, response.getheader("Location") or "", data
        raise AssertionError

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class Recorder:
    def __init__(self):
        self.samples = []  # (start, page kind, seconds, status, ok)
        self.errors = []
        self.lock = threading.Lock()

    def add(self, started, kind, seconds, status, ok, detail=""):
        self.samples.append((started, kind, seconds, status, ok))
        if not ok:
            with self.lock:
                if len(self.errors) < 500:
                    self.errors.append((kind, status, detail))


def timed(browser, recorder, kind, method, path, body=None, headers=None, expect_redirect=False):
    started = time.monotonic()
    try:
        status, location, data = browser.request(method, path, body, headers)
    except Exception as exc:  # noqa: BLE001 (a failed request is an error figure, not a crash)
        recorder.add(started, kind, time.monotonic() - started, 0, False, f"{path}: {exc!r}")
        return 0, "", b""
    seconds = time.monotonic() - started
    ok = 200 <= status < 400 and "/accounts/login" not in location
    if ok and expect_redirect != (300 <= status < 400):
        ok = False
    detail = "" if ok else f"{method} {path} → {status} {location} {data[:300].decode(errors='replace')!r}"
    recorder.add(started, kind, seconds, status, ok, detail)
    return status, location, data


def user_loop(account, args, recorder, start_at, stop, statics_done):
    rng = random.Random(account["username"])
    if stop.wait(max(0.0, start_at - time.monotonic())):
        return
    browser = Browser(args.port)
    status, _loc, page = timed(browser, recorder, "login form (GET)", "GET", "/accounts/login/")
    token = CSRF_INPUT.search(page.decode(errors="replace")) if status == 200 else None
    if token is None:
        recorder.add(time.monotonic(), "login (POST)", 0, status, False, "no CSRF token on the login form")
        return
    form = (
        f"csrfmiddlewaretoken={token.group(1)}&username={account['username']}&password={dashboards.PASSWORD}"
    ).encode()
    status, location, _page = timed(
        browser,
        recorder,
        "login (POST, Argon2)",
        "POST",
        "/accounts/login/",
        form,
        {"Content-Type": "application/x-www-form-urlencoded", "Referer": "http://127.0.0.1/accounts/login/"},
        expect_redirect=True,
    )
    if not (300 <= status < 400) or "sessionid" not in browser.cookies:
        return
    _status, _loc, home = timed(browser, recorder, "待办事项 home", "GET", location or "/")
    for asset in dict.fromkeys(STATIC_REF.findall(home.decode(errors="replace"))):
        timed(browser, recorder, "static file (once per user)", "GET", asset)
    statics_done.add(account["username"])
    pages = account["pages"]
    weights = [w for *_x, w in pages]
    class_weight = 30 if account["kind"] != "institution" else 40
    while not stop.is_set():
        if stop.wait(rng.uniform(args.think_min, args.think_max)):
            break
        if rng.random() < class_weight / (class_weight + sum(weights)):
            pool = account["classes"] if rng.random() < 0.85 else account["other_classes"]
            pk = rng.choice(pool)
            timed(browser, recorder, "class page (basic)", "GET", f"/classes/{pk}/")
            for tab in rng.sample(CLASS_TABS, rng.randint(1, 2)):
                if stop.wait(rng.uniform(args.think_min, args.think_max)):
                    break
                timed(browser, recorder, f"class page ?tab={tab}", "GET", f"/classes/{pk}/?tab={tab}")
        else:
            kind, url, _w = rng.choices(pages, weights)[0]
            timed(browser, recorder, kind, "GET", url)
    browser.close()


class Batches:
    """Bodies of 1,000 attendance records, made on demand (nothing held in memory): each batch is
    20 check-in slots of one class's 50 trainees, every slot a minute after the last."""

    def __init__(self, codes, size: int, seed: int):
        self.codes = codes
        self.size = size
        self.slot = [0] * len(codes)
        self.turn = 0
        self.rng = random.Random(seed)

    def next(self) -> tuple[bytes, int]:
        c = self.turn % len(self.codes)
        self.turn += 1
        code, numbers = self.codes[c]
        items = []
        while len(items) < self.size:
            begin = dt.datetime(2026, 3, 2, 8, 0) + dt.timedelta(minutes=self.slot[c])
            self.slot[c] += 1
            check_in = begin.strftime("%Y-%m-%dT%H:%M:%S")
            check_out = (begin + dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S")
            for n in numbers[: self.size - len(items)]:
                items.append(
                    f'{{"class_code":"{code}","id_number":"{n}","check_in":"{check_in}",'
                    f'"check_out":"{check_out}","method":"FACE","photo_sha256":"{self.rng.getrandbits(256):064x}",'
                    f'"lat":40.84,"lon":111.75}}'
                )
        return ('{"items":[' + ",".join(items) + "]}").encode(), len(items)


def attendance_loop(client, device, args, batches, results, start_at, stop):
    from peixun.intake.services import signed_headers

    key, secret = device
    interval = args.attendance_clients * args.batch_size / args.attendance_rate
    if stop.wait(max(0.0, start_at - time.monotonic())):
        return
    browser = Browser(args.port)
    next_at = time.monotonic()
    while not stop.is_set():
        body, n = batches.next()
        started = time.monotonic()
        try:
            headers = signed_headers(secret, key, "POST", API_PATH, body)
            headers["Content-Type"] = "application/json"
            status, _loc, data = browser.request("POST", API_PATH, body, headers)
            answer = json.loads(data or b"{}") if status == 200 else {}
            detail = "" if status == 200 else data[:300].decode(errors="replace")
        except Exception as exc:  # noqa: BLE001
            status, answer, detail = 0, {}, repr(exc)
        seconds = time.monotonic() - started
        results.append(
            (started, seconds, status, n, answer.get("created", 0), answer.get("errors", 0), detail)
        )
        next_at += interval
        now = time.monotonic()
        if next_at < now - interval:
            next_at = now  # behind: send back-to-back, do not pile up a burst
        elif next_at > now and stop.wait(next_at - now):
            break
    browser.close()


# --- figures ---------------------------------------------------------------------------------------


def pct(sorted_values, p):
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, max(0, round(p / 100 * len(sorted_values) + 0.5) - 1))]


def table(rows, title):
    print(f"\n{title}")
    print(
        f"  {'page kind':38s} {'count':>6s} {'p50 ms':>7s} {'p95 ms':>7s} {'p99 ms':>7s} {'max ms':>7s} {'errors':>6s}"
    )
    for name, samples in rows:
        times = sorted(s[2] for s in samples)
        errors = sum(1 for s in samples if not s[4])
        flag = "  ← p95 over 300 ms" if pct(times, 95) > 0.3 else ""
        print(
            f"  {name:38s} {len(times):6d} {pct(times, 50) * 1000:7.0f} {pct(times, 95) * 1000:7.0f} "
            f"{pct(times, 99) * 1000:7.0f} {(times[-1] if times else 0) * 1000:7.0f} {errors:6d}{flag}"
        )


def report_pages(recorder, window):
    begin, end = window
    steady = [s for s in recorder.samples if begin <= s[0] < end]
    ramp = [s for s in recorder.samples if s[0] < begin]
    kinds = sorted({s[1] for s in steady})
    rows = [(k, [s for s in steady if s[1] == k]) for k in kinds]
    lists = [s for s in steady if "list" in s[1] or "home" in s[1] or "workload" in s[1]]
    classes = [s for s in steady if s[1].startswith("class page")]
    rows += [
        ("ALL reviewers' and institutions' lists", lists),
        ("ALL class pages (every tab)", classes),
        ("ALL requests", steady),
    ]
    table(
        rows,
        f"pages, the {end - begin:.0f} s after the ramp-up ({len(steady) / (end - begin):.1f} requests/s):",
    )
    ramp_rows = [(k, [s for s in ramp if s[1] == k]) for k in sorted({s[1] for s in ramp})]
    table(ramp_rows, "during the ramp-up (logins, first pages, static files):")
    if recorder.errors:
        print(f"\nfirst errors ({len(recorder.errors)} recorded):")
        for kind, status, detail in recorder.errors[:8]:
            print(f"  [{kind}] HTTP {status}: {detail[:400]}")
    non200 = {}
    for s in recorder.samples:
        if s[4] and s[3] != 200 and "POST" not in s[1]:
            non200[(s[1], s[3])] = non200.get((s[1], s[3]), 0) + 1
    if non200:
        print(
            "answers other than 200 that were not errors: " + ", ".join(f"{k} {v}" for k, v in non200.items())
        )


def report_attendance(results, window, args):
    begin, end = window
    if not results:
        print("\nattendance API: no batch sent")
        return
    steady = [r for r in results if begin <= r[0] and r[0] + r[1] <= end]
    created = sum(r[4] for r in steady)
    items = sum(r[3] for r in steady)
    times = sorted(r[1] for r in steady)
    failed = [r for r in results if r[2] != 200 or r[5]]
    total_created = sum(r[4] for r in results)
    total_time = max(r[0] + r[1] for r in results) - min(r[0] for r in results)
    print(
        f"\nattendance API ({args.attendance_clients} devices, batches of {args.batch_size}, target "
        f"{args.attendance_rate:,} records/s):"
    )
    print(
        f"  after the ramp-up: {len(steady)} batches, {created:,} records created of {items:,} sent → "
        f"{created / (end - begin):,.0f} records/s; batch p50 {pct(times, 50) * 1000:.0f} ms, "
        f"p95 {pct(times, 95) * 1000:.0f} ms, max {(times[-1] if times else 0) * 1000:.0f} ms"
    )
    print(
        f"  whole run: {len(results)} batches, {total_created:,} records created in {total_time:.0f} s "
        f"→ {total_created / max(total_time, 1e-9):,.0f} records/s; failed batches or item errors: {len(failed)}"
    )
    for r in failed[:5]:
        print(f"    HTTP {r[2]}, item errors {r[5]}: {r[6][:300]}")


def query_counts(accounts):
    """One request of each page kind through the test client, in this process, with its query count."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from peixun.accounts.models import User

    settings.ALLOWED_HOSTS = ["*"]
    print("\nqueries per page (one request each, Django test client in this process, server idle):")
    seen = set()
    for account in accounts:
        if account["kind"] in seen:
            continue
        seen.add(account["kind"])
        client = Client()
        client.force_login(User.objects.get(username=account["username"]))
        pk = account["classes"][0]
        urls = [(k, u) for k, u, _w in account["pages"]]
        urls += [("class page (basic)", f"/classes/{pk}/")]
        urls += [(f"class page ?tab={t}", f"/classes/{pk}/?tab={t}") for t in dict.fromkeys(CLASS_TABS)]
        for kind, url in urls:
            client.get(url)  # warm
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url)
                seconds = time.perf_counter() - started
            print(
                f"  {account['kind']:11s} {url:34s} {response.status_code}  {len(queries):4d} queries "
                f"{seconds * 1000:6.0f} ms  ({kind})"
            )


# --- main ------------------------------------------------------------------------------------------


def main() -> None:
    cores = os.cpu_count() or 1
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trainees", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reuse", action="store_true", help="skip emptying and building: use the data there")
    parser.add_argument("--jobs", type=int, default=cores, help="processes sealing attendance chains")
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--duration", type=float, default=300, help="seconds measured after the ramp-up")
    parser.add_argument("--ramp-up", type=float, default=20)
    parser.add_argument(
        "--settle-limit",
        type=float,
        default=180,
        help="seconds after the ramp-up to wait at most for every user to be logged in",
    )
    parser.add_argument("--think-min", type=float, default=2)
    parser.add_argument("--think-max", type=float, default=8)
    parser.add_argument("--attendance-rate", type=int, default=20000, help="records/s, all devices (0: none)")
    parser.add_argument("--attendance-clients", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2 * cores + 1)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--keep-alive", type=int, default=10)
    parser.add_argument("--conn-max-age", type=int, default=60)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--no-query-counts", action="store_true")
    parser.add_argument(
        "--collectstatic", action="store_true", help="collect even if var/bench-load/static is up to date"
    )
    args = parser.parse_args()

    if not (os.environ.get("DATABASE_URL") or "").startswith("postgres"):
        sys.exit("DATABASE_URL must name a PostgreSQL database (the data is written with COPY)")
    # Production settings in this process too: the data (ID numbers, device secrets, passwords) is
    # written with the keys and hasher the server will use.
    os.environ.pop("PEIXUN_TESTING", None)
    os.environ["PEIXUN_DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", BENCH_SECRET_KEY)
    os.environ.setdefault("PEIXUN_IDENTITY_KEY", BENCH_IDENTITY_KEY)
    os.environ["PEIXUN_REQUIRE_2FA"] = "false"
    os.environ["PEIXUN_VAR_DIR"] = str(VAR_DIR)
    os.environ["DJANGO_SETTINGS_MODULE"] = "peixun.settings"
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    import django

    django.setup()
    from django.db import connection

    load = os.getloadavg()
    print(
        f"date: {dt.datetime.now():%Y-%m-%d %H:%M}  machine: {platform.node()} {platform.machine()}, {cores} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB; "
        f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    print(
        f"python {platform.python_version()}; PostgreSQL {connection.pg_version}; database {connection.settings_dict['NAME']}"
    )

    if not args.reuse:
        started = time.monotonic()
        empty_and_build(args.trainees, args.seed, args.jobs)
        print(f"VACUUM ANALYZE: {vacuum_analyze():.1f} s")
        print(f"data ready in {time.monotonic() - started:.1f} s")
    print(verify_some_chains())

    from peixun.attendance.models import AttendanceRecord
    from peixun.core.models import Person
    from peixun.training.models import Lesson, TrainingClass

    print(
        f"data: {Person.objects.count():,} people, {TrainingClass.objects.count():,} classes, "
        f"{Lesson.objects.count():,} lessons, {AttendanceRecord.objects.count():,} attendance records"
    )
    started = time.monotonic()
    accounts = ensure_accounts(args.users)
    by_kind = {}
    for a in accounts:
        by_kind.setdefault(a["kind"], set()).add(a["org"])
    print(
        f"{len(accounts)} simulated users ({time.monotonic() - started:.1f} s to prepare): "
        + ", ".join(
            f"{sum(1 for a in accounts if a['kind'] == k)} {k} ({len(o)} organisations)"
            for k, o in by_kind.items()
        )
    )
    device, codes = None, []
    if args.attendance_rate > 0:
        key, secret, codes = api_ingest.setup_data(2 * args.attendance_clients, secrets.token_hex(3).upper())
        device = (key, secret)
    connection.close()

    env = server_env(args)
    if args.collectstatic or not static_is_fresh():
        print(f"collectstatic (whitenoise: hashed, gzip and brotli files): {collectstatic(env):.1f} s")
    else:
        print(
            f"static files: the collectstatic output in {(VAR_DIR / 'static').relative_to(ROOT)} is up to date"
        )
    server, log = start_server(args, env)
    print(
        f"gunicorn: {args.workers} workers × {args.threads} threads (gthread), keep-alive {args.keep_alive} s, "
        f"127.0.0.1:{args.port}; PEIXUN_DEBUG off, explicit SECRET_KEY / PEIXUN_IDENTITY_KEY, "
        f"PEIXUN_REQUIRE_2FA=false (no TOTP for the simulated officials), static files from collectstatic via "
        f"whitenoise, PEIXUN_DB_CONN_MAX_AGE={args.conn_max_age}; log {log.relative_to(ROOT)}"
    )
    print(
        f"{args.users} users, think time {args.think_min:g}–{args.think_max:g} s, ramp-up {args.ramp_up:g} s, "
        f"then {args.duration:g} s measured once all are logged in; attendance {args.attendance_rate:,} records/s target from "
        f"{args.attendance_clients if args.attendance_rate else 0} devices"
    )
    recorder, results, stop, statics = Recorder(), [], threading.Event(), set()
    t0 = time.monotonic()
    threads = [
        threading.Thread(
            target=user_loop,
            args=(a, args, recorder, t0 + i * args.ramp_up / max(1, len(accounts)), stop, statics),
            daemon=True,
        )
        for i, a in enumerate(accounts)
    ]
    if device:
        for k in range(args.attendance_clients):
            mine = codes[k :: args.attendance_clients]
            threads.append(
                threading.Thread(
                    target=attendance_loop,
                    args=(k, device, args, Batches(mine, args.batch_size, k), results, t0, stop),
                    daemon=True,
                )
            )
    cpu0 = time.process_time()
    try:
        for t in threads:
            t.start()
        # The measured window opens when the ramp-up is over and every user has logged in and
        # loaded the static files (100 Argon2 logins at once take both cores for a minute), so that
        # it measures users at work; the logins are reported apart, with the ramp-up.
        while time.monotonic() < t0 + args.ramp_up + args.settle_limit and len(statics) < len(accounts):
            time.sleep(0.5)
        begin = max(t0 + args.ramp_up, time.monotonic())
        window = (begin, begin + args.duration)
        print(f"  all users at work after {begin - t0:.0f} s: measuring {args.duration:g} s", flush=True)
        while time.monotonic() < window[1]:
            time.sleep(min(30, max(0.1, window[1] - time.monotonic())))
            now = time.monotonic()
            recent = [s for s in recorder.samples if s[0] > now - 30]
            created = sum(r[4] for r in results if r[0] > now - 30)
            print(
                f"  … {now - t0:4.0f} s: {len(recent) / 30:.1f} pages/s, {created / 30:,.0f} attendance records/s "
                f"(last 30 s), load average {os.getloadavg()[0]:.2f}",
                flush=True,
            )
        stop.set()
        for t in threads:
            t.join(130)
    finally:
        stop.set()
        client_cpu = time.process_time() - cpu0
        stop_server(server)
    wall = time.monotonic() - t0
    print(
        f"load generator CPU: {client_cpu:.1f} s over {wall:.0f} s ({client_cpu / wall * 100:.1f}% of one core); "
        f"users who loaded their static files: {len(statics)}/{len(accounts)}"
    )
    report_pages(recorder, window)
    report_attendance(results, window, args)
    problems = [line for line in log.read_text().splitlines() if "Traceback" in line or "ERROR" in line]
    if problems:
        print(f"\n{len(problems)} error lines in {log}; first: {problems[0][:300]}")
    if not args.no_query_counts:
        query_counts(accounts)


if __name__ == "__main__":
    main()
