"""selectors for recipients."""

__all__: list[str] = []
