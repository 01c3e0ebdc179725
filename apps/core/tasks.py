from celery import shared_task


@shared_task(name="core.ping")
def ping() -> str:
    """A task that does nothing but answer: proves a worker is alive and consuming."""
    return "pong"
