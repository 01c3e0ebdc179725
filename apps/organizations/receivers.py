"""Who reaches what follows from roles, memberships and the organisation tree: when one of
them changes, the scopes kept between requests are no longer used (see apps.core.scoping)."""

from apps.core.scoping import scope_follows

from .models import Membership, OrganizationRole, PartyOrganization


def connect() -> None:
    scope_follows(OrganizationRole, Membership, PartyOrganization)
