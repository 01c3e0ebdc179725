"""The service categories in use, kept in each process's memory (``apps.core.memo``).

Logging service asks for a category every time; the list changes a few times a year, when
city staff add or retire one. A change made here is seen at once; other processes follow
within seconds.
"""

from __future__ import annotations

import copy

from apps.core.memo import SharedMemo

from .models import ServiceCategory


def _read() -> dict[int, ServiceCategory]:
    return {category.pk: category for category in ServiceCategory.objects.filter(is_active=True)}


categories_memo = SharedMemo("service-categories", _read)


def connect() -> None:
    categories_memo.connect(ServiceCategory)


def active_category(pk) -> ServiceCategory | None:
    """The category in use with this id, or None. A copy: the kept one is shared by requests."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    category = categories_memo.get().get(pk)
    return copy.copy(category) if category is not None else None
