"""Who reaches what follows from roles, memberships and the organisation tree: when one of
them changes, the scopes kept between requests are no longer used (see apps.core.scoping)."""

from django.db.models.signals import post_delete, post_save

from apps.core.scoping import scope_changed

from .models import Membership, OrganizationRole, PartyOrganization


def _scope_changed(sender, **kwargs):
    if kwargs.get("raw"):  # loading fixtures: nothing cached refers to these rows yet
        return
    scope_changed()


def connect() -> None:
    for model in (OrganizationRole, Membership, PartyOrganization):
        label = model._meta.label_lower
        post_save.connect(_scope_changed, sender=model, dispatch_uid=f"scope-save-{label}")
        post_delete.connect(_scope_changed, sender=model, dispatch_uid=f"scope-delete-{label}")
