"""DRF viewsets; ``ROUTES`` is registered by volunteer_platform/api.py."""

from .recipients import ROUTES as RECIPIENT_ROUTES
from .requests import ROUTES as REQUEST_ROUTES

ROUTES = [*RECIPIENT_ROUTES, *REQUEST_ROUTES]
