"""What the activities app tells the apps above it (service records subscribe)."""

from django.dispatch import Signal

#: A volunteer's attendance at an activity is complete (checked out by QR, by the leader or
#: automatically at the end). ``sender`` is the Signup class; kwargs: ``signup``, ``actor``.
#: Receivers run inside the check-out's transaction: raising ValidationError refuses it.
attendance_completed = Signal()
