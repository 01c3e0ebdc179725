"""API for recipients."""

ROUTES: list[tuple[str, type, str]] = []
