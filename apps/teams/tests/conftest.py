from .fixtures import teams_world  # noqa: F401
