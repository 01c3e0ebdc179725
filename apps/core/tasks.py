from celery import shared_task


@shared_task(name="core.ping")
def ping() -> str:
    """A task that does nothing but answer: proves a worker is alive and consuming."""
    return "pong"


@shared_task(name="core.export_run")
def export_run(job_id: int) -> str:
    """Write an export job's file. Taking up only waiting jobs, it may safely run twice."""
    from .export_jobs import export_job_run

    job = export_job_run(job_id=job_id)
    return job.status if job is not None else "missing"


@shared_task(name="core.exports_purge")
def exports_purge() -> int:
    """Delete the files of expired exports (hourly, from the beat schedule)."""
    from .export_jobs import export_jobs_purge

    return export_jobs_purge()
