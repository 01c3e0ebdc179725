"""The permission matrix: (URL, method, role) → expected status, for every door of the platform.

Each app's ``tests/test_permissions.py`` declares ``CASES`` with :func:`case` and runs them with
:func:`run_case`. ``tests/test_url_coverage.py`` fails when a URL pattern has no case, so a new
door cannot arrive without its lock.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.urls import reverse

ROLES = (
    "anonymous",
    "outsider",
    "volunteer",
    "team_leader",
    "community_staff",
    "inspector",
    "branch_secretary",
    "other_branch_secretary",
    "city_admin",
)


@dataclass(frozen=True)
class Case:
    url_name: str
    method: str
    expected: dict[str, int]
    kwargs: Callable[[SimpleNamespace], dict] = field(default=lambda world: {})
    data: Callable[[SimpleNamespace], dict] | None = None
    api: bool = False
    query: str = ""
    #: an anonymous 302 must lead to the login page (not for doors open to everyone)
    anonymous_to_login: bool = True

    def __str__(self):
        return f"{self.method} {self.url_name}"


def case(
    url_name,
    method="GET",
    *,
    default,
    kwargs=None,
    data=None,
    api=False,
    query="",
    anonymous_to_login=True,
    **roles,
):
    """Expected status for each role: ``default`` unless a role is named.

    Team leaders and community staff are volunteers as far as the party organisations are
    concerned: unless named, they expect what ``volunteer`` expects.
    """
    unknown = set(roles) - set(ROLES)
    assert not unknown, f"unknown roles {unknown}"
    if "volunteer" in roles:
        for like_volunteer in ("team_leader", "community_staff"):
            roles.setdefault(like_volunteer, roles["volunteer"])
    expected = {role: roles.get(role, default) for role in ROLES}
    return Case(
        url_name=url_name,
        method=method,
        expected=expected,
        kwargs=kwargs or (lambda world: {}),
        data=data,
        api=api,
        query=query,
        anonymous_to_login=anonymous_to_login,
    )


def parametrize(cases):
    """Pytest parameters: one per (case, role), with readable ids."""
    return [
        pytest.param(c, role, id=f"{c.method}-{c.url_name}-{role}") for c in cases for role in ROLES
    ]


def run_case(c: Case, role: str, world: SimpleNamespace, client, api_client):
    user = getattr(world.cast, role) if role != "anonymous" else None
    url = reverse(c.url_name, kwargs=c.kwargs(world)) + c.query
    payload = c.data(world) if c.data else None
    if c.api:
        client_ = api_client(user)
        response = client_.generic(
            c.method,
            url,
            data=json.dumps(payload) if payload is not None else "",
            content_type="application/json",
        )
    else:
        client.logout()
        if user is not None:
            client.force_login(user)
        if c.method == "GET":
            response = client.get(url)
        else:
            response = client.generic(
                c.method,
                url,
                data=_urlencode(payload or {}),
                content_type="application/x-www-form-urlencoded",
            )
    expected = c.expected[role]
    assert response.status_code == expected, (
        f"{c} as {role}: expected {expected}, got {response.status_code}"
    )
    if role == "anonymous" and expected == 302 and c.anonymous_to_login:
        assert response["Location"].startswith(reverse(settings.LOGIN_URL)), response["Location"]
    return response


def _urlencode(data: dict) -> str:
    from urllib.parse import urlencode

    return urlencode(data, doseq=True)


def permission_modules():
    """Every app's permission test modules (``tests/test_*permissions*.py``)."""
    import importlib
    import pkgutil

    import apps

    for app in pkgutil.iter_modules(apps.__path__):
        try:
            tests = importlib.import_module(f"apps.{app.name}.tests")
        except ModuleNotFoundError:
            continue
        for module in pkgutil.iter_modules(tests.__path__):
            if module.name.startswith("test_") and "permissions" in module.name:
                yield importlib.import_module(f"{tests.__name__}.{module.name}")


#: The admin site admits only people holding an organisation role.
OUTSIDE_ADMIN = {"anonymous": 302, "outsider": 403, "volunteer": 403}


def admin_url(model, action: str) -> str:
    return f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}"


def scoped_admin_cases(model, getter, *, add=None, city_deletes=False):
    """The five admin pages of a scoped model, for every role.

    ``getter(world)`` returns an object in the branch's subtree: the other branch's secretary
    gets 404 for it and the read-only inspector 403 on changes. ``add`` overrides who may open
    the add page; ``city_deletes`` keeps deleting to the city's administrators.
    """

    def obj(w):
        return {"object_id": getter(w).pk}

    add = add if add is not None else {"default": 200, "inspector": 403}
    delete = {"branch_secretary": 403} if city_deletes else {}
    in_tree = {"default": 200, "other_branch_secretary": 404, **OUTSIDE_ADMIN}
    return [
        case(admin_url(model, "changelist"), default=200, **OUTSIDE_ADMIN),
        case(admin_url(model, "add"), **add, **OUTSIDE_ADMIN),
        case(admin_url(model, "change"), kwargs=obj, **in_tree),
        case(admin_url(model, "delete"), kwargs=obj, inspector=403, **delete, **in_tree),
        case(admin_url(model, "history"), kwargs=obj, **in_tree),
    ]
