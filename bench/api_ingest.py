"""Attendance ingestion through the signed device API, end to end (issue 5: ≥ 20,000 records/s on
PostgreSQL).

Creates (with codes unique to this run, nothing is emptied) an institution, a registered device and
classes of 50 trainees, then posts signed batches of 1,000 attendance records to
POST /api/v1/devices/attendance and prints records/s. It starts no server: by default requests go
through Django's test Client in this process (URL routing, middleware, django-ninja, signature
check, nonce, batch service, database); with --url they go over HTTP to a server you started,
which must use the same database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/peixun_dev_j \\
      .venv/bin/python bench/api_ingest.py --batches 40

Not a test: it prints figures for docs/performance.md.
"""

import argparse
import datetime as dt
import json
import os
import platform
import random
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PATH = "/api/v1/devices/attendance"
TRAINEES_PER_CLASS = 50


def setup_data(classes: int, run: str):
    from django.db import transaction

    from peixun.core.identity import encrypt_id_number, id_check_char, id_lookup_hash, mask_id_number
    from peixun.core.models import Area, Person
    from peixun.core.uscc import USCC_CHARS, USCC_WEIGHTS
    from peixun.institutions.services import institution_register
    from peixun.intake.services import device_register
    from peixun.training.models import Enrollment, TrainingClass

    rng = random.Random(run)
    area = Area.objects.get(code="150102")
    first17 = "52150102" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    check = 31 - total % 31
    institution = institution_register(
        code=first17 + USCC_CHARS[0 if check == 31 else check],
        name=f"基准测试培训学校{run}",
        type="PRIVATE_SCHOOL",
        area=area,
        actor=None,
    )
    device, secret = device_register(
        institution=institution, actor=None, name="基准测试考勤机", site_address="呼和浩特市新城区"
    )
    numbers = []
    while len(numbers) < classes * TRAINEES_PER_CLASS:
        birth = dt.date(1970, 1, 1) + dt.timedelta(days=rng.randrange(12000))
        first = f"150102{birth:%Y%m%d}{rng.randrange(1000):03d}"
        numbers.append(first + id_check_char(first))
    numbers = list(dict.fromkeys(numbers))
    with transaction.atomic():
        Person.objects.bulk_create(
            [
                Person(
                    id_hmac=id_lookup_hash(n),
                    id_cipher=encrypt_id_number(n),
                    id_masked=mask_id_number(n),
                    name="测试学员",
                    birth_date=dt.date(int(n[6:10]), int(n[10:12]), int(n[12:14])),
                    sex="M" if int(n[16]) % 2 else "F",
                    area=area,
                )
                for n in numbers
            ],
            ignore_conflicts=True,
        )
        persons = Person.objects.in_bulk([id_lookup_hash(n) for n in numbers], field_name="id_hmac")
        codes = []
        for c in range(classes):
            klass = TrainingClass.objects.create(
                code=f"BENCH{run}-{c:03d}",
                institution=institution,
                area=area,
                occupation_code="4-10-01-05",
                occupation_name="养老护理员",
                level="5",
                training_type="EMPLOYMENT",
                start_date=dt.date(2026, 3, 2),
                end_date=dt.date(2026, 6, 30),
                total_hours=120,
            )
            chunk = numbers[c * TRAINEES_PER_CLASS : (c + 1) * TRAINEES_PER_CLASS]
            Enrollment.objects.bulk_create(
                Enrollment(training_class=klass, person=persons[id_lookup_hash(n)], category="RURAL_MIGRANT")
                for n in chunk
            )
            codes.append((klass.code, chunk))
    return device.code, secret, codes


def make_batches(codes, batches: int, size: int):
    """Batch b goes to class b % classes; within a class every record has its own check-in time."""
    out = []
    slot_of_class = [0] * len(codes)
    for b in range(batches):
        c = b % len(codes)
        class_code, numbers = codes[c]
        items = []
        while len(items) < size:
            slot = slot_of_class[c]
            slot_of_class[c] += 1
            start = dt.datetime(2026, 3, 2, 8, 0) + dt.timedelta(minutes=slot)
            for n in numbers:
                if len(items) == size:
                    break
                items.append(
                    {
                        "class_code": class_code,
                        "id_number": n,
                        "check_in": start.strftime("%Y-%m-%dT%H:%M:%S"),
                        "check_out": (start + dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S"),
                        "method": "FACE",
                        "photo_sha256": secrets.token_hex(32),
                        "lat": 40.84,
                        "lon": 111.75,
                    }
                )
            if len(numbers) > size:
                break
        out.append(json.dumps({"items": items}, separators=(",", ":")).encode())
    return out


def _post(connection, path: str, body: bytes, headers: dict) -> tuple[int, dict]:
    connection.request("POST", path, body=body, headers={"Content-Type": "application/json", **headers})
    response = connection.getresponse()
    return response.status, json.loads(response.read() or b"{}")


def _client(url: str, key: str, secret: str, bodies: list[bytes], start, out) -> None:
    """One device pushing its batches one after another over a kept-alive connection."""
    import http.client
    from urllib.parse import urlsplit

    from peixun.intake.services import signed_headers

    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=300)
    start.wait()
    timings, records, created, errors = [], 0, 0, 0
    cpu = time.process_time()
    for body in bodies:
        t0 = time.perf_counter()
        status, answer = _post(connection, PATH, body, signed_headers(secret, key, "POST", PATH, body))
        timings.append(time.perf_counter() - t0)
        if status != 200:
            errors += 1
            continue
        records += len(answer["results"])
        created += answer["created"]
    out.put((timings, records, created, errors, time.process_time() - cpu))


def _serve(workers: int, port: int):
    """gunicorn on this database; DEBUG off (PEIXUN_TESTING gives the same development keys the
    data was written with)."""
    env = {**os.environ, "PEIXUN_TESTING": "true", "ALLOWED_HOSTS": "127.0.0.1,localhost"}
    env.pop("PEIXUN_DEBUG", None)
    process = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "peixun.wsgi",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            break
        except urllib.error.HTTPError:
            break  # it answers
        except OSError:
            time.sleep(0.3)
    return process


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=40, help="batches per client")
    parser.add_argument("--size", type=int, default=1000, help="records per batch")
    parser.add_argument("--classes", type=int, default=4, help="classes per client")
    parser.add_argument("--clients", type=int, default=1, help="devices pushing at the same time (over HTTP)")
    parser.add_argument("--url", help="base URL of a running peixun (e.g. http://127.0.0.1:8000)")
    parser.add_argument("--serve", type=int, metavar="WORKERS", help="start gunicorn with this many workers")
    args = parser.parse_args()

    # DEBUG off: it would keep every SQL statement in memory. PEIXUN_TESTING supplies development keys.
    os.environ.setdefault("PEIXUN_TESTING", "true")
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = f"sqlite:///{ROOT / 'var' / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peixun.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from peixun.intake.services import signed_headers

    settings.ALLOWED_HOSTS = ["*"]
    server = None
    if args.serve:
        port = 18000 + os.getpid() % 1000
        server = _serve(args.serve, port)
        args.url = f"http://127.0.0.1:{port}"
    transport = args.url or "Django test Client (in process)"
    if args.serve:
        transport += f" (gunicorn, {args.serve} sync workers, started by this script)"
    print(
        f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cores; python {platform.python_version()}"
    )
    print(f"database: {connection.vendor}; transport: {transport}; clients: {args.clients}")
    call_command("migrate", verbosity=0)
    run = secrets.token_hex(3).upper()
    key, secret, codes = setup_data(args.classes * args.clients, run)
    # Each client (device) pushes its own classes: devices of different classes never wait for
    # each other's chain head.
    per_client = [
        make_batches(codes[i * args.classes : (i + 1) * args.classes], args.batches + 1, args.size)
        for i in range(args.clients)
    ]
    connection.close()  # the clients are separate processes
    try:
        if args.clients > 1 or args.url:
            run_http(args, key, secret, per_client)
        else:
            run_in_process(args, key, secret, per_client[0], Client(), signed_headers)
    finally:
        if server:
            server.terminate()
            server.wait(timeout=30)


def run_http(args, key, secret, per_client) -> None:
    import multiprocessing as mp

    # Warm-up: one batch per client (imports, first chain heads); not counted.
    for bodies in per_client:
        status, answer = _post_once(args.url, key, secret, bodies[0])
        if status != 200:
            raise SystemExit(f"HTTP {status}: {answer}")
    print(f"load average before the run: {os.getloadavg()[0]:.2f}")
    ctx = mp.get_context("fork")
    start, out = ctx.Event(), ctx.Queue()
    workers = [
        ctx.Process(target=_client, args=(args.url, key, secret, bodies[1:], start, out))
        for bodies in per_client
    ]
    for w in workers:
        w.start()
    started = time.perf_counter()
    start.set()
    results = [out.get() for _ in workers]
    elapsed = time.perf_counter() - started
    for w in workers:
        w.join()
    timings = sorted(t for r in results for t in r[0])
    records = sum(r[1] for r in results)
    created = sum(r[2] for r in results)
    errors = sum(r[3] for r in results)
    client_cpu = sum(r[4] for r in results)
    print(
        f"new records: {records} in {len(timings)} batches of {args.size} from {args.clients} clients: "
        f"{elapsed:.2f} s → {records / elapsed:,.0f} records/s (created {created}, failed batches {errors}); "
        f"per batch median {timings[len(timings) // 2] * 1000:.0f} ms, "
        f"p95 {timings[int(len(timings) * 0.95)] * 1000:.0f} ms"
    )
    print(f"CPU time of the clients (signing, sending, reading answers): {client_cpu:.2f} s")
    print(f"load average after the run: {os.getloadavg()[0]:.2f}")


def _post_once(url, key, secret, body):
    import http.client
    from urllib.parse import urlsplit

    from peixun.intake.services import signed_headers

    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=300)
    try:
        return _post(connection, PATH, body, signed_headers(secret, key, "POST", PATH, body))
    finally:
        connection.close()


def run_in_process(args, key, secret, bodies, client, signed_headers) -> None:
    def send(body: bytes):
        headers = signed_headers(secret, key, "POST", PATH, body)
        r = client.post(PATH, data=body, content_type="application/json", headers=headers)
        return r.status_code, r.json()

    send(bodies[0])  # warm-up (imports, caches, first chain heads); its records are not counted
    records = created = 0
    timings = []
    print(
        f"load average before the run: {os.getloadavg()[0]:.2f} (other processes share the {os.cpu_count()} cores)"
    )
    cpu_started = time.process_time()
    started = time.perf_counter()
    for body in bodies[1:]:
        t0 = time.perf_counter()
        status, answer = send(body)
        timings.append(time.perf_counter() - t0)
        if status != 200:
            raise SystemExit(f"HTTP {status}: {answer}")
        records += len(answer["results"])
        created += answer["created"]
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    timings.sort()
    print(
        f"new records: {records} in {len(bodies) - 1} batches of {args.size}: {elapsed:.2f} s → "
        f"{records / elapsed:,.0f} records/s (created {created}); per batch median "
        f"{timings[len(timings) // 2] * 1000:.1f} ms, max {timings[-1] * 1000:.1f} ms"
    )
    print(
        f"CPU time of this process (client + Django; not PostgreSQL's): {cpu:.2f} s → "
        f"{records / cpu:,.0f} records per CPU-second"
    )
    # idempotent re-push: every record is a duplicate
    started = time.perf_counter()
    duplicates = 0
    for body in bodies[1:]:
        status, answer = send(body)
        duplicates += answer["duplicates"]
    elapsed = time.perf_counter() - started
    print(
        f"re-push (all duplicates): {duplicates} records: {elapsed:.2f} s → {duplicates / elapsed:,.0f} records/s"
    )


if __name__ == "__main__":
    main()
