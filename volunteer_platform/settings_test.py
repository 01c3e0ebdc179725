"""Test settings: the real settings with fast hashing, in-memory mail and eager tasks.

PostgreSQL and Redis are used when DATABASE_URL / REDIS_URL are set (CI sets both).
"""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

os.environ.setdefault("DEBUG", "1")

from volunteer_platform.settings import *  # noqa: F403
from volunteer_platform.settings import DATABASES, REDIS_URL

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# Private files (exports, imports) go to a directory of this run's own, removed at exit.
PRIVATE_MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="vp-test-private-"))
atexit.register(shutil.rmtree, PRIVATE_MEDIA_ROOT, ignore_errors=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SECURE_SSL_REDIRECT = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}
# Each test process gets its own cache prefix so runs never see each other's keys.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"vp-test-{os.getpid()}",
        },
        "local": CACHES["local"],
    }
# Query-count tests compare two requests, the first of which would fill the shared scope cache;
# the cache has its own tests (apps/core/tests/test_scope_cache.py), which turn it on.
SCOPE_CACHE_SECONDS = 0
# The tests count and read the statements a page sends; a statement prepared on the shared
# connection would show up only in whichever test ran first. apps/core/tests/test_prepared.py
# (and the submit's own test) turn it on.
DATABASE_PREPARED_STATEMENTS = False
