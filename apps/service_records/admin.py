"""Admin for service records, evidence and evaluations."""

from . import admin_certificates, admin_imports  # noqa: F401  (register their models)
