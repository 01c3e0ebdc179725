"""REST API for certificates."""

ROUTES = []
