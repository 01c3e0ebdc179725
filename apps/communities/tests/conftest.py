from apps.communities.tests.fixtures import cworld  # noqa: F401
