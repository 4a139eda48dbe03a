"""Background jobs with progress (imports, cross-checks, reports).

`job_submit()` records a Job and hands it to Celery when CELERY_BROKER_URL is set; without a
broker the same task runs in-process (eager). The job's function reports progress with
`report(done, total, message)`, kept in the cache so the page can show it while the job's own
transaction is still open. A failed job keeps its error rows; it can be submitted again
(`job_retry`), and a worker killed mid-task leaves it to Celery's late acknowledgement.
"""

import hashlib
import logging
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from .models import Job

logger = logging.getLogger(__name__)
JobFunction = Callable[..., dict]
_REGISTRY: dict[str, JobFunction] = {}
MAX_STORED_ERRORS = 2000


def job_function(kind: str):
    def decorator(func: JobFunction) -> JobFunction:
        _REGISTRY[kind] = func
        return func

    return decorator


@dataclass
class Progress:
    done: int = 0
    total: int = 0
    message: str = ""

    @property
    def percent(self) -> int:
        if not self.total:
            return 0
        return min(100, int(self.done * 100 / self.total))


def _key(job_id) -> str:
    return f"peixun:job:{job_id}:progress"


def job_progress(job: Job) -> Progress:
    if job.finished:
        return Progress(done=1, total=1, message=job.message)
    data = cache.get(_key(job.public_id))
    if not data:
        return Progress(message=job.message)
    return Progress(**data)


def job_submit(*, kind: str, title: str, params: dict, actor) -> Job:
    if kind not in _REGISTRY:
        raise KeyError(kind)
    job = Job.objects.create(
        kind=kind, title=title, params=params, created_by=actor if getattr(actor, "pk", None) else None
    )
    from .tasks import run_job

    # Hand over only after the job row is committed, or a fast worker may not find it.
    transaction.on_commit(lambda: run_job.delay(str(job.public_id)))
    return job


def job_retry(*, job: Job, actor) -> Job:
    return job_submit(kind=job.kind, title=job.title, params=job.params, actor=actor)


def job_execute(job_id: str) -> None:
    """Run one job now (called by the Celery task, or in-process).

    A job's message can come back while the job still runs (Redis hands an unacknowledged message
    out again after the visibility timeout). On PostgreSQL each run holds a session advisory lock
    on its job: a second delivery that cannot take it leaves the job to the run that holds it. A
    run whose worker died has lost its connection and with it the lock, so its job runs again."""
    with _job_lock(job_id) as held:
        if not held:
            logger.warning("job %s is running elsewhere; this delivery leaves it alone", job_id)
            return
        _execute(job_id)


def job_lock_key(job_id: str) -> int:
    """The PostgreSQL advisory lock key of one job (64 bits of a hash of its public id)."""
    return int.from_bytes(hashlib.sha256(f"peixun.job:{job_id}".encode()).digest()[:8], "big", signed=True)


@contextmanager
def _job_lock(job_id: str):
    if connection.vendor != "postgresql":
        yield True  # SQLite: one process, jobs run in it one at a time
        return
    key = job_lock_key(job_id)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        held = cursor.fetchone()[0]
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def _execute(job_id: str) -> None:
    job = Job.objects.get(public_id=job_id)
    if job.finished:
        return  # a redelivered message after success or failure does nothing twice
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.RUNNING, started_at=timezone.now(), attempts=job.attempts + 1
    )

    def report(done: int, total: int, message: str = "") -> None:
        cache.set(_key(job_id), {"done": done, "total": total, "message": message}, timeout=24 * 3600)

    from .tabular import ImportFailed

    try:
        result = _REGISTRY[job.kind](params=job.params, actor=job.created_by, report=report)
    except ImportFailed as exc:
        errors = [str(e) for e in exc.errors]
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.FAILED,
            finished_at=timezone.now(),
            message=exc.message,
            errors=errors[:MAX_STORED_ERRORS],
            error_count=len(errors),
        )
        return
    except Exception as exc:  # any other failure: the job is marked failed and may be retried
        logger.exception("job %s (%s) failed", job_id, job.kind)
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.FAILED, finished_at=timezone.now(), message=f"任务出错：{exc}"[:500]
        )
        return
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.SUCCEEDED, finished_at=timezone.now(), result=result, message="完成"
    )
    report(1, 1, "完成")
