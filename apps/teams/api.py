"""DRF serializers and viewsets; ``ROUTES`` is registered by volunteer_platform/api.py."""

ROUTES: list[tuple[str, type, str]] = []
