"""services for recipients."""

__all__: list[str] = []
