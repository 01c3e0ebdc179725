from django.contrib.admin.apps import AdminConfig


class PlatformAdminConfig(AdminConfig):
    """The Django admin, on the platform's scoped admin site."""

    default_site = "apps.core.admin_site.PlatformAdminSite"
