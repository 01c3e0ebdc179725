from django.contrib.contenttypes.models import ContentType

from .models import AuditEntry


def audit_entry(*, actor, action: str, target=None, details: dict | None = None) -> AuditEntry:
    """The audit entry ``audit_log`` appends, not yet saved."""
    entry = AuditEntry(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        details=details or {},
    )
    if target is not None:
        entry.target_type = ContentType.objects.get_for_model(type(target))
        entry.target_id = str(target.pk)
        entry.target_repr = str(target)[:255]
    return entry


def audit_log(*, actor, action: str, target=None, details: dict | None = None) -> AuditEntry:
    """Append an audit entry. Call inside the service's transaction."""
    entry = audit_entry(actor=actor, action=action, target=target, details=details)
    entry.save()
    return entry
