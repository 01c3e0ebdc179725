"""Every named URL pattern of the project has a permission case: no door without its lock."""

from django.urls import URLPattern, URLResolver, get_resolver

from apps.core.tests.matrix import permission_modules


def _names(patterns, namespace=None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace
            ns = f"{namespace}:{inner}" if namespace and inner else inner or namespace
            yield from _names(pattern.url_patterns, ns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}:{pattern.name}" if namespace else pattern.name


def _covered_names():
    return {c.url_name for module in permission_modules() for c in module.CASES}


def test_every_url_pattern_has_a_permission_case():
    missing = set(_names(get_resolver().url_patterns)) - _covered_names()
    assert not missing, f"URL patterns without a permission case: {sorted(missing)}"


def test_the_walker_sees_the_whole_project():
    names = set(_names(get_resolver().url_patterns))
    assert {"portal:home", "admin:index", "api:organization-list", "account_login"} <= names
