"""gunicorn's settings for the web tier (docs/deployment.md).

gunicorn reads this file from its working directory (or ``--config``); its command-line flags
and ``GUNICORN_CMD_ARGS`` override it.

Workers: two per core the process may run on, unless ``WEB_CONCURRENCY`` says otherwise.
Requests here are short and mostly CPU (Python and the database's own work on the same
machine), so more workers than that do not serve more: measured with ``manage.py
benchmark_portal`` on 2 cores with PostgreSQL beside gunicorn, 5 workers cost every request
about a fifth more CPU than 4 (the processes take turns on the cores), and answered slower.
A machine whose database is elsewhere may use a few more; measure before changing it.
"""

import os


def web_workers() -> int:
    """``WEB_CONCURRENCY`` if set, else two per core this process may use."""
    configured = os.environ.get("WEB_CONCURRENCY", "").strip()
    if configured:
        return int(configured)
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return 2 * cores


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = web_workers()


def post_worker_init(worker):
    """Once a worker has loaded the application, set what it holds aside from the garbage
    collector (``gc.freeze``): the modules, settings and URL patterns live as long as the
    worker, and a full collection would otherwise walk them all again, time after time, for
    the few objects a request leaves behind."""
    import gc

    gc.freeze()
