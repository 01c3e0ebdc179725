"""What the service records app tells the apps above it (points subscribe)."""

from django.dispatch import Signal

#: A record was approved. kwargs: ``record``, ``actor``. Sent inside the approval's transaction.
record_approved = Signal()
#: An approved record stopped counting (reopened or revoked). kwargs: ``record``, ``actor``,
#: ``reason``. Sent inside the transaction.
record_unapproved = Signal()
