"""Issue #9: faults. On PostgreSQL, a Celery worker killed in the middle of a job leaves the job
retryable, and the job's import happens exactly once in the end.

A real worker (prefork pool, one process) runs in a subprocess against the shared test database and a
Redis broker; the test submits a package import through `job_submit` and kills the worker while the
import is writing:

- only the pool process is killed: Celery sees the worker lost, rejects the message back to the queue
  (acks_late + reject_on_worker_lost) and the same worker runs the job a second time;
- the whole worker is killed (main process, and its pool process with it): the job stays RUNNING with
  its message unacknowledged in Redis; a worker started afterwards delivers it again once the
  visibility timeout (PEIXUN_CELERY_VISIBILITY_TIMEOUT, short here) has passed.

Either way the killed attempt leaves nothing behind (the import is one transaction), the job ends
SUCCEEDED after two attempts, and the package's rows, its audit entry and the hash chains are there
exactly once.

Each test uses its own Redis key prefix (queues, unacknowledged messages), so parallel runs do not
see each other's tasks; every worker is killed and every key removed afterwards.
"""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from peixun.attendance.models import AttendanceRecord, OnlineSession
from peixun.attendance.services import verify_attendance
from peixun.celery import app
from peixun.checks.generator import generate
from peixun.core.audit import verify_chain
from peixun.core.jobs import job_submit
from peixun.core.models import AuditEntry, Job, Person
from peixun.training.models import Enrollment, ExamResult, Lesson, TrainingClass

REDIS_URL = os.environ.get("PEIXUN_TEST_REDIS_URL", "redis://127.0.0.1:6379/11")


def _redis_reachable() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="a Celery worker in another process needs the shared PostgreSQL test database "
        "(the SQLite test database is not shared with other processes)",
    ),
    pytest.mark.django_db(transaction=True),
]

# The worker is Celery's own `celery worker` (app.worker_main, as `celery -A peixun worker` runs it),
# with the test's key prefix (and for the second worker a quick scan for unacknowledged messages)
# added to the transport options from settings.
WORKER = """
import json, sys
from peixun.celery import app
app.conf.broker_transport_options = {**app.conf.broker_transport_options, **json.loads(sys.argv[1])}
app.worker_main(["worker", "--pool=prefork", "--concurrency=1", "--loglevel=INFO", "--without-gossip",
                 "--without-mingle", "--without-heartbeat", "--hostname", sys.argv[2]])
"""


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    """A generated package whose import takes a few seconds: long enough to be killed half-way."""
    out = tmp_path_factory.mktemp("celery-kill") / "package"
    return generate(trainees=600, out=out, seed=11)


class Workers:
    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.prefix = f"peixun-test-{uuid.uuid4().hex}:"
        self.processes: list[subprocess.Popen] = []
        self.jobs: list[Job] = []
        db = connection.settings_dict
        password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
        self.env = {
            **os.environ,
            "PEIXUN_TESTING": "true",
            "DATABASE_URL": f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}",
            "CELERY_BROKER_URL": REDIS_URL,
        }

    @property
    def transport_options(self) -> dict:
        return {"global_keyprefix": self.prefix}

    def start(self, *, visibility_timeout: int | None = None) -> subprocess.Popen:
        env = dict(self.env)
        options = dict(self.transport_options)
        if visibility_timeout is not None:
            env["PEIXUN_CELERY_VISIBILITY_TIMEOUT"] = str(visibility_timeout)
            # Scan for old unacknowledged messages one second after start, then not again within
            # the test: a later scan would also hand out the running job's own message again (which
            # is why the timeout must be longer than the longest job).
            options |= {"unacked_restore_interval": 1, "unacked_restore_throttle": 1000}
        name = f"worker{len(self.processes) + 1}"
        log = open(self.tmp_path / f"{name}.log", "wb")  # closed in stop_all()
        process = subprocess.Popen(
            [sys.executable, "-c", WORKER, json.dumps(options), f"{name}-{self.prefix.rstrip(':')}@%h"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=Path(settings.BASE_DIR),
            start_new_session=True,  # its own process group: the pool process is killed with it
        )
        process.log = log
        process.log_path = self.tmp_path / f"{name}.log"
        self.processes.append(process)
        return process

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.log_path.name}\n{p.log_path.read_text(errors='replace')[-3000:]}" for p in self.processes
        )

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait(timeout=30)
            process.log.close()
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"{self.prefix}*"))
        keys += [f":1:peixun:job:{job.public_id}:progress" for job in self.jobs]  # the cache's keys
        if keys:
            client.delete(*keys)
        # The killed sessions' transactions are gone before the test database is emptied.
        _wait_for(lambda: _other_sessions() == 0, 30, "the killed workers' database sessions to end")


@contextmanager
def _publishing(workers: Workers):
    """This process submits jobs to the test's broker (settings run jobs in-process without one)."""
    conf = app.conf
    saved = {key: conf[key] for key in ("broker_url", "broker_transport_options", "task_always_eager")}

    def reset_pool():
        if app._pool is not None:
            app._pool.force_close_all()
        app._pool = None
        app.amqp._producer_pool = None

    reset_pool()
    conf.update(
        broker_url=REDIS_URL,
        broker_transport_options={**saved["broker_transport_options"], **workers.transport_options},
        task_always_eager=False,
    )
    try:
        yield
    finally:
        reset_pool()
        conf.update(saved)


@pytest.fixture
def workers(transactional_db, tmp_path):
    if not _redis_reachable():
        pytest.skip(f"no Redis at {REDIS_URL} for the Celery broker")
    # Transactional tests empty the database between tests: load the occupations and areas again.
    call_command("load_reference", stdout=StringIO())
    workers = Workers(tmp_path)
    try:
        with _publishing(workers):
            yield workers
    finally:
        workers.stop_all()


def _wait_for(condition, seconds: float, what: str, logs=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}" + (f"\n{logs()}" if logs else ""))


def _other_sessions(*, writing: bool = False) -> int:
    """Database sessions of other processes in the test database (those inside a write, if asked)."""
    sql = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
    params = [connection.settings_dict["NAME"]]
    if writing:
        sql += " AND (state = 'idle in transaction' OR (state = 'active' AND query ILIKE %s))"
        params.append("%INSERT%")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _pool_processes(pid: int) -> list[int]:
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            children += [int(child) for child in task.read_text().split()]
        except FileNotFoundError:
            pass
    return children


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def _counts() -> dict[str, int]:
    return {
        "classes.csv": TrainingClass.objects.count(),
        "lessons.csv": Lesson.objects.count(),
        "enrollments.csv": Enrollment.objects.count(),
        "attendance.csv": AttendanceRecord.objects.count(),
        "online_sessions.csv": OnlineSession.objects.count(),
        "exams.csv": ExamResult.objects.count(),
        "people": Person.objects.count(),
        "imports audited": AuditEntry.objects.filter(action="package.imported").count(),
    }


def _submit_and_wait_until_writing(workers: Workers, package) -> Job:
    job = job_submit(
        kind="import_package", title="数据包导入", params={"directory": str(package.out)}, actor=None
    )
    workers.jobs.append(job)
    _wait_for(
        lambda: Job.objects.get(pk=job.pk).status == Job.Status.RUNNING and _other_sessions(writing=True),
        60,
        "the worker to start writing the import",
        workers.logs,
    )
    time.sleep(1.0)  # well into the import's transaction
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING and job.attempts == 1
    return job


def _assert_imported_exactly_once(job: Job, package, before: dict[str, int], workers: Workers) -> None:
    _wait_for(lambda: Job.objects.get(pk=job.pk).finished, 90, "the job to finish", workers.logs)
    job.refresh_from_db()
    assert (job.status, job.attempts) == (Job.Status.SUCCEEDED, 2), (job.message, workers.logs())
    expected = {name: package.rows[name] for name in before if name in package.rows}
    expected["people"] = before["people"] + package.trainees + package.rows["teachers.csv"]
    expected["imports audited"] = 1
    assert _counts() == expected
    assert verify_attendance() == []
    assert verify_chain() is None


def test_a_killed_pool_process_leaves_nothing_and_celery_runs_the_job_again(workers, package):
    before = _counts()
    assert before["classes.csv"] == 0 and before["imports audited"] == 0
    worker = workers.start()
    job = _submit_and_wait_until_writing(workers, package)
    pool = _pool_processes(worker.pid)
    assert len(pool) == 1, pool

    os.kill(pool[0], signal.SIGKILL)
    _wait_for(lambda: not _alive(pool[0]), 10, "the pool process to die")
    # Nothing of the killed attempt is visible (its transaction never committed) ...
    assert _counts() == before
    # ... the worker lives on with a new pool process, and the message comes back to it.
    assert worker.poll() is None
    _assert_imported_exactly_once(job, package, before, workers)
    assert worker.poll() is None


def test_a_killed_worker_leaves_the_job_running_and_a_new_worker_runs_it_again(workers, package):
    before = _counts()
    first = workers.start()
    job = _submit_and_wait_until_writing(workers, package)
    pool = _pool_processes(first.pid)
    assert len(pool) == 1, pool

    os.kill(first.pid, signal.SIGKILL)  # the main process; its pool process dies with it
    first.wait(timeout=10)
    _wait_for(lambda: not _alive(pool[0]), 10, "the orphaned pool process to die")
    _wait_for(lambda: _other_sessions() == 0, 30, "the killed sessions to end")
    # The killed attempt left nothing, and nobody finished the job: it is still RUNNING.
    assert _counts() == before
    job.refresh_from_db()
    assert (job.status, job.attempts) == (Job.Status.RUNNING, 1)

    # The unacknowledged message stays in Redis; a new worker delivers it again after the visibility
    # timeout (an hour by default; one second here).
    workers.start(visibility_timeout=1)
    _assert_imported_exactly_once(job, package, before, workers)
