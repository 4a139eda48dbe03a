from celery import shared_task

from .jobs import job_execute


@shared_task(acks_late=True, reject_on_worker_lost=True, name="peixun.run_job")
def run_job(job_id: str) -> None:
    job_execute(job_id)
