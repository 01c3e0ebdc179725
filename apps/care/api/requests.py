"""API for requests."""

ROUTES: list[tuple[str, type, str]] = []
