"""Private files: exports and uploaded imports hold people's data and are never served as media.

They live under ``PRIVATE_MEDIA_ROOT`` (not ``MEDIA_ROOT``, which the web server publishes at
``/media/``) and reach a person only through a view that checks who asks. Each file sits in a
directory with a random name, so even a leaked path cannot be guessed from the date and the
file's name.
"""

from __future__ import annotations

import posixpath
import uuid

from django.core.files.storage import storages
from django.utils import timezone


def private_storage():
    """The ``private`` entry of ``STORAGES`` (a callable, so tests may swap the setting)."""
    return storages["private"]


def _private_path(prefix: str, filename: str) -> str:
    name = posixpath.basename(filename.replace("\\", "/")) or "file"
    return f"{prefix}/{timezone.localdate():%Y/%m}/{uuid.uuid4().hex}/{name}"


def export_upload_to(instance, filename: str) -> str:
    return _private_path("exports", filename)


def import_upload_to(instance, filename: str) -> str:
    return _private_path("imports", filename)
