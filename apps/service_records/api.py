"""REST API for service records."""

ROUTES = []
