"""Placeholder: filled by the part that owns it."""

ROUTES: list[tuple[str, type, str]] = []
