from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def protected_field_keys(app_configs, **kwargs):
    """Protected data must not hang on SECRET_KEY: rotating that key would lose every ID number."""
    warnings = []
    if not settings.FIELD_ENCRYPTION_KEYS:
        warnings.append(
            Warning(
                "FIELD_ENCRYPTION_KEYS is not set; the key protecting ID numbers is derived from "
                "SECRET_KEY, so changing SECRET_KEY would make them unreadable.",
                hint="Generate one with cryptography.fernet.Fernet.generate_key() and set it.",
                id="platform.W001",
            )
        )
    if not settings.BLIND_INDEX_KEY:
        warnings.append(
            Warning(
                "BLIND_INDEX_KEY is not set; the ID-number fingerprint key is derived from "
                "SECRET_KEY.",
                hint="Set a long random value and keep it stable.",
                id="platform.W002",
            )
        )
    return warnings
