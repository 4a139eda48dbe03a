"""Faults on PostgreSQL: a process killed in the middle of an import leaves nothing behind, and the
same import can simply be run again (the jobs page's 重新运行 does exactly that). Celery's side of the
same guarantee is configuration: tasks are acknowledged late and rejected when their worker is lost,
so a killed worker's job is delivered again."""

import os
import signal
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from peixun.checks.generator import generate
from peixun.core.jobs import job_execute, job_function, job_lock_key
from peixun.core.models import Job, Person
from peixun.exchange.package import import_package
from peixun.training.models import Enrollment, TrainingClass

pytestmark = pytest.mark.django_db(transaction=True)


def test_celery_redelivers_the_task_of_a_killed_worker():
    from peixun.core.tasks import run_job

    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST
    assert run_job.acks_late and run_job.reject_on_worker_lost


def test_an_import_killed_half_way_leaves_nothing_and_runs_again(tmp_path, reference_data):
    if connection.vendor != "postgresql":
        pytest.skip("a second process needs the shared PostgreSQL test database")
    # Transactional tests empty the database between tests: load the occupations and areas again.
    call_command("load_reference", stdout=StringIO())
    package = tmp_path / "package"
    generate(trainees=1500, out=package, seed=11)
    db = connection.settings_dict
    env = {
        **os.environ,
        "PEIXUN_TESTING": "true",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
    }
    people_before = Person.objects.count()
    process = subprocess.Popen(
        [sys.executable, "-m", "peixun.manage", "import_package", str(package)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=Path(settings.BASE_DIR),
    )
    # Kill it once it is writing: the transaction has begun when classes are being inserted.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND state = 'idle in transaction' "
                "OR (datname = %s AND state = 'active' AND query ILIKE %s)",
                [db["NAME"], db["NAME"], "%INSERT%"],
            )
            if cursor.fetchone()[0]:
                break
        time.sleep(0.2)
    assert process.poll() is None, process.stdout.read().decode()[-2000:]
    time.sleep(1.0)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    # The killed session's transaction is rolled back by the server.
    assert TrainingClass.objects.count() == 0
    assert Enrollment.objects.count() == 0
    assert Person.objects.count() == people_before
    result = import_package(directory=package, actor=None)
    assert result is not None
    assert TrainingClass.objects.count() > 0 and Enrollment.objects.count() > 0


@job_function("tests.faults.noop")
def _noop_job(*, params, actor, report) -> dict:
    report(1, 1, "完成")
    return {"ran": True}


def test_a_job_delivered_again_while_it_runs_is_left_to_the_run_in_progress():
    """Issue #9 (concurrency): Redis gives an unacknowledged message out again after the visibility
    timeout, even while its job still runs. The second delivery must not run the job a second time;
    once the first run's worker has died (its connection, and so its lock, gone), it must."""
    if connection.vendor != "postgresql":
        pytest.skip("the running job's lock is a PostgreSQL advisory lock")
    job = Job.objects.create(
        kind="tests.faults.noop", title="测试任务", params={}, status=Job.Status.RUNNING, attempts=1
    )
    db = connection.settings_dict
    running = psycopg.connect(
        host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"], dbname=db["NAME"]
    )
    try:
        running.execute("SELECT pg_advisory_lock(%s)", [job_lock_key(str(job.public_id))])
        job_execute(str(job.public_id))  # the message comes back while the first run holds its job
        job.refresh_from_db()
        assert (job.status, job.attempts) == (Job.Status.RUNNING, 1)
    finally:
        running.close()  # the first run's worker dies: PostgreSQL drops its lock with the connection
    job_execute(str(job.public_id))
    job.refresh_from_db()
    assert (job.status, job.attempts, job.result) == (Job.Status.SUCCEEDED, 2, {"ran": True})
    job_execute(str(job.public_id))  # and a delivery after success does nothing
    job.refresh_from_db()
    assert job.attempts == 2
