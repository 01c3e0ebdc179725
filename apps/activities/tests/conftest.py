from apps.activities.tests.fixtures import aworld  # noqa: F401
