"""selectors for requests."""

__all__: list[str] = []
