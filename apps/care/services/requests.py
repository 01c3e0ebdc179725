"""services for requests."""

__all__: list[str] = []
