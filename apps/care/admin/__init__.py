"""Admin pages, registered by importing each part."""

from . import recipients, requests  # noqa: F401
