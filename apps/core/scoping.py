"""Scoping: the one mechanism that decides what a user may see and change.

Every scoped model's queryset implements ``visible_to(user)`` and ``manageable_by(user)``.
Pages, the API, the admin and exports all start from those querysets, and fetch single
objects through :func:`get_object_for_user`, which keeps the access contract:

* outside the user's scope: 404 (we do not confirm the object exists);
* inside the scope but the user's role may not change it: 403;
* anonymous users are sent to the login page (by the middleware, before any view runs).

Which organisations a user reaches is known to the ``organizations`` app, a layer above; it
registers a provider through the ``PLATFORM_SCOPE_PROVIDER`` setting so the core stays free of
domain imports.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import connection, models, transaction
from django.db.models.signals import post_delete, post_save
from django.http import Http404
from django.utils.module_loading import import_string

from .prefetch import cached_many, forget


@dataclass(frozen=True)
class UserScope:
    """What one user reaches, computed once per request."""

    is_city_admin: bool = False
    #: materialised paths of organisations whose subtree the user may change
    manage_paths: tuple[str, ...] = ()
    #: materialised paths of organisations whose subtree the user may see (includes manage_paths)
    view_paths: tuple[str, ...] = ()
    #: organisations the user belongs to as a member (seen, not changed)
    member_organization_ids: tuple[int, ...] = field(default=())

    @property
    def can_manage_any(self) -> bool:
        return self.is_city_admin or bool(self.manage_paths)

    @property
    def can_view_any(self) -> bool:
        return self.is_city_admin or bool(self.view_paths)


EMPTY_SCOPE = UserScope()
_CACHE_ATTRIBUTE = "_platform_scope"

# Between requests a user's scope is kept in the shared cache, so a page does not ask the
# database for the user's roles and memberships every time. Every entry carries the
# *generation* it was computed under; any change to roles, memberships, organisations or teams
# starts a new generation (``scope_changed``), and an entry of an older generation is never
# used. The new generation starts when the change commits; until then the transaction that
# made it reads scopes from the database only (it sees its own change, nobody else does yet),
# so a scope resting on a change that is then rolled back is never shared. An entry is stored
# under the generation read *before* the database was, so a scope computed while a change was
# being committed is already stale when it lands. The time limit is only a backstop for
# changes made behind the ORM's back (raw SQL, a restored backup); the
# ``SCOPE_CACHE_SECONDS`` setting sets it, and 0 turns the shared cache off.
_GENERATION_KEY = "scope:generation"
#: Set on the database connection while its open transaction holds an uncommitted change.
_CHANGED_ATTRIBUTE = "_platform_scope_changed"


def _shared_key(user, name: str = "scope") -> str:
    # date_joined tells apart two accounts that had the same id at different times (a
    # restored database, or tests on SQLite, which reuses ids after a rollback).
    joined = user.date_joined.timestamp() if getattr(user, "date_joined", None) else 0
    return f"{name}:user:{user.pk}:{joined}:{int(bool(user.is_superuser))}"


def _new_generation() -> str:
    generation = uuid.uuid4().hex
    cache.set(_GENERATION_KEY, generation, None)
    return generation


def scope_changed() -> None:
    """Roles, memberships, organisations or teams changed: cached scopes are no longer used once
    the change commits; meanwhile this transaction reads scopes from the database."""
    if connection.in_atomic_block:
        setattr(connection, _CHANGED_ATTRIBUTE, True)
    transaction.on_commit(_committed)


def _committed() -> None:
    setattr(connection, _CHANGED_ATTRIBUTE, False)
    _new_generation()


def _row_changed(sender, **kwargs) -> None:
    if kwargs.get("raw"):  # loading fixtures: nothing cached refers to these rows yet
        return
    scope_changed()


def scope_follows(*models) -> None:
    """Start a new generation whenever a row of one of ``models`` is saved or deleted (an
    app's ``ready``, for the models its users' scopes rest on)."""
    for model in models:
        label = model._meta.label_lower
        post_save.connect(_row_changed, sender=model, dispatch_uid=f"scope-save-{label}")
        post_delete.connect(_row_changed, sender=model, dispatch_uid=f"scope-delete-{label}")


def _uncommitted_change() -> bool:
    if not connection.in_atomic_block:
        # No transaction open: whatever an earlier one changed was committed (and started a
        # new generation) or rolled back (and changed nothing).
        setattr(connection, _CHANGED_ATTRIBUTE, False)
        return False
    return getattr(connection, _CHANGED_ATTRIBUTE, False)


def scope_cache_keys(user) -> list[str]:
    """The cache keys a request reads for the user's scope, to read ahead with others
    (``apps.core.prefetch``); none when the shared cache is off."""
    if not settings.SCOPE_CACHE_SECONDS or not getattr(user, "is_authenticated", False):
        return []
    return [_GENERATION_KEY, _shared_key(user)]


def shared_for_user(user, name: str, compute):
    """``compute(user)``, kept in the shared cache between requests as the user's scope is:
    for what follows from the user's roles, memberships, organisations and teams only (a
    change to any of those starts a new generation, see ``scope_changed``). The value must
    pickle; each call returns a fresh copy."""
    seconds = settings.SCOPE_CACHE_SECONDS
    if not seconds or _uncommitted_change():
        return compute(user)
    key = _shared_key(user, name)
    found = cached_many(user, [_GENERATION_KEY, key])
    generation = found.get(_GENERATION_KEY)
    entry = found.get(key)
    if generation is not None and entry is not None and entry[0] == generation:
        return entry[1]
    if generation is None:
        cache.add(_GENERATION_KEY, uuid.uuid4().hex, None)
        generation = cache.get(_GENERATION_KEY)
    value = compute(user)
    cache.set(key, (generation, value), seconds)
    return value


def _computed_scope(user) -> dict:
    return asdict(import_string(settings.PLATFORM_SCOPE_PROVIDER)(user))


def _shared_scope(user) -> UserScope:
    return UserScope(**shared_for_user(user, "scope", _computed_scope))


def get_user_scope(user) -> UserScope:
    if user is None or not user.is_authenticated or not user.is_active:
        return EMPTY_SCOPE
    cached = getattr(user, _CACHE_ATTRIBUTE, None)
    if cached is None:
        cached = _shared_scope(user)
        setattr(user, _CACHE_ATTRIBUTE, cached)
    return cached


def forget_user_scope(user) -> None:
    """Drop the scope kept for this user object, after the user's roles changed (the shared
    entries follow the generation, which the change started anew)."""
    if hasattr(user, _CACHE_ATTRIBUTE):
        delattr(user, _CACHE_ATTRIBUTE)
    for key in (_GENERATION_KEY, _shared_key(user)):
        forget(user, key)


class ScopedQuerySet(models.QuerySet):
    def visible_to(self, user):  # pragma: no cover - interface
        raise NotImplementedError

    def manageable_by(self, user):  # pragma: no cover - interface
        raise NotImplementedError


def user_can_manage(user, obj) -> bool:
    manager = type(obj)._default_manager
    return manager.manageable_by(user).filter(pk=obj.pk).exists()


def get_object_for_user(queryset, user, *, change: bool = False, **lookup):
    """Fetch an object with the access contract: 404 outside scope, 403 when it may not change."""
    if isinstance(queryset, type) and issubclass(queryset, models.Model):
        queryset = queryset._default_manager.all()
    try:
        obj = queryset.visible_to(user).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if change and not user_can_manage(user, obj):
        raise PermissionDenied
    return obj


# Visibility rules that a higher app contributes for a lower app's model (the User model is
# scoped by party memberships, which the accounts app cannot import). Registered in the
# higher app's AppConfig.ready(); several apps may contribute to one model, and a row is
# reached when any of their rules reaches it.
_visibility_rules: dict[str, list] = {}


def register_visibility_rule(model_label: str, rule) -> None:
    """``rule(user, scope, *, manage: bool) -> Q``: the rows of the model a user reaches."""
    rules = _visibility_rules.setdefault(model_label, [])
    if rule not in rules:
        rules.append(rule)


def visibility_q(model_label: str, user, *, manage: bool) -> models.Q:
    if user is None or not user.is_authenticated or not user.is_active:
        return models.Q(pk__in=[])
    scope = get_user_scope(user)
    rules = _visibility_rules.get(model_label)
    if not rules:
        return models.Q() if scope.is_city_admin else models.Q(pk__in=[])
    combined = models.Q(pk__in=[])
    for rule in rules:
        q = rule(user, scope, manage=manage)
        if not q:  # an empty Q reaches every row (and would vanish when OR-ed)
            return models.Q()
        combined |= q
    return combined
