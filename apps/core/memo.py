"""Small reference data kept in each process's memory, under a version in the shared cache.

The working-day calendar and the service categories change a few times a year, yet nearly
every request that logs service reads them. A :class:`SharedMemo` keeps what its loader
returns in the process's memory, tied to a *version* held in the shared cache:

* every change (``changed``, connected to the models' ``post_save`` and ``post_delete``)
  starts a new version at once, so the rest of the changing transaction (and a test) sees the
  change, and again when it commits, so a copy another process read before the commit is not
  kept;
* until it commits, the changing transaction reads the data afresh each time and keeps
  nothing: what it sees is its own;
* every other process compares versions (one cache read) at most every ``check_seconds``, so
  it follows within seconds;
* ``memo_seconds`` is only a backstop for changes made behind the ORM's back (a data
  migration, raw SQL).
"""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save

_memos: list[SharedMemo] = []


@dataclasses.dataclass(frozen=True)
class _Kept:
    version: str
    value: Any
    #: Read again after this (``time.monotonic()``), whatever the version says.
    expires: float
    #: When the version was last compared with the shared one.
    checked: float


class SharedMemo:
    def __init__(
        self,
        name: str,
        load: Callable[[], Any],
        *,
        check_seconds: float = 5,
        memo_seconds: float = 3600,
    ):
        self.name = name
        self.load = load
        self.check_seconds = check_seconds
        self.memo_seconds = memo_seconds
        self._version_key = f"memo:{name}:version"
        self._kept: _Kept | None = None
        #: ``unpublished``: the version this thread started in a transaction not yet committed.
        self._thread = threading.local()
        _memos.append(self)

    # Changes ---------------------------------------------------------------------------

    def _new_version(self) -> str:
        version = uuid.uuid4().hex
        cache.set(self._version_key, version, None)
        return version

    def _committed(self) -> None:
        self._thread.unpublished = None
        self._new_version()

    def changed(self, *args, **kwargs) -> None:
        """The data changed (a signal receiver, so it takes any arguments)."""
        self._kept = None
        self._thread.unpublished = self._new_version()
        transaction.on_commit(self._committed)

    def forget(self) -> None:
        """Start afresh: a new version, nothing kept (tests start so, since a rollback or a
        flush removes rows without a signal)."""
        self._kept = None
        self._thread.unpublished = None
        self._new_version()

    def connect(self, *models) -> None:
        """Start a new version whenever a row of one of ``models`` is saved or deleted."""
        for model in models:
            uid = f"memo-{self.name}-{model._meta.label_lower}"
            post_save.connect(self.changed, sender=model, dispatch_uid=f"{uid}-save")
            post_delete.connect(self.changed, sender=model, dispatch_uid=f"{uid}-delete")

    # Reading ---------------------------------------------------------------------------

    def _read(self, version: str) -> _Kept:
        now = time.monotonic()
        return _Kept(version, self.load(), now + self.memo_seconds, now)

    def get(self) -> Any:
        kept = self._kept
        if kept is not None and time.monotonic() - kept.checked < self.check_seconds:
            return kept.value
        version = cache.get(self._version_key)
        if version is None:
            cache.add(self._version_key, uuid.uuid4().hex, None)
            version = cache.get(self._version_key)
        if version == getattr(self._thread, "unpublished", None):
            if connection.in_atomic_block:
                # This transaction changed the data: what it reads is its own until it
                # commits (or rolls back), so it is not kept for anyone else.
                return self._read(version).value
            self._thread.unpublished = None  # that transaction rolled back
        kept = self._kept
        if kept is None or kept.version != version or kept.expires < time.monotonic():
            # The version is read before the rows: a change committed meanwhile has moved it
            # on already, so a copy older than the change is never taken for the newer one.
            kept = self._read(version)
        else:
            kept = dataclasses.replace(kept, checked=time.monotonic())
        self._kept = kept
        return kept.value


def forget_all() -> None:
    """Every memo starts afresh (between tests)."""
    for memo in _memos:
        memo.forget()
