"""REST API for activities (filled in by the activities API work)."""

ROUTES = []
