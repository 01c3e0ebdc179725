"""Signed, short-lived QR codes for check-in and check-out.

The leader's screen shows a code that changes every minute or so; a volunteer scans it with
their phone. The code is signed (``django.core.signing``, with its own salt) and carries the
activity, the direction and the time it was made: a photo of yesterday's code, a code of
another activity or a code edited by hand is refused with a clear message.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Activity, ActivityStatus

SALT = "apps.activities.checkin"
CHECK_IN = "in"
CHECK_OUT = "out"
DIRECTIONS = (CHECK_IN, CHECK_OUT)
#: Clocks drift: a code made this far "in the future" is still accepted.
CLOCK_SKEW = datetime.timedelta(seconds=30)

EXPIRED_MESSAGE = gettext_lazy(
    "This QR code has expired: scan the code on the leader's screen again."
)
INVALID_MESSAGE = gettext_lazy(
    "This QR code is not valid: scan the code on the leader's screen again."
)
OTHER_ACTIVITY_MESSAGE = gettext_lazy("This QR code belongs to another activity.")


def make_token(*, activity: Activity, direction: str, now: datetime.datetime | None = None) -> str:
    """The text in the QR code for ``activity`` and ``direction`` ("in" or "out")."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, not {direction!r}")
    now = now or timezone.now()
    return signing.dumps([activity.pk, direction, int(now.timestamp())], salt=SALT)


def window(activity: Activity) -> tuple[datetime.datetime, datetime.datetime]:
    """When codes of ``activity`` are accepted: from a while before the start to after the end."""
    margin = datetime.timedelta(minutes=settings.CHECKIN_WINDOW_MINUTES)
    return activity.starts_at - margin, activity.ends_at + margin


def is_open(activity: Activity, *, now: datetime.datetime | None = None) -> bool:
    opens, closes = window(activity)
    return opens <= (now or timezone.now()) <= closes


def read_token(token: str, *, now: datetime.datetime | None = None) -> tuple[int, str]:
    """``(activity id, direction)`` of a valid code; ValidationError with the reason otherwise."""
    now = now or timezone.now()
    try:
        activity_id, direction, made_at = signing.loads(str(token or ""), salt=SALT)
        activity_id, made_at = int(activity_id), int(made_at)
    except (signing.BadSignature, ValueError, TypeError):
        raise ValidationError(INVALID_MESSAGE, code="invalid") from None
    if direction not in DIRECTIONS:
        raise ValidationError(INVALID_MESSAGE, code="invalid")
    age = int(now.timestamp()) - made_at
    if age < -CLOCK_SKEW.total_seconds():
        raise ValidationError(INVALID_MESSAGE, code="invalid")
    if age > settings.CHECKIN_QR_MAX_AGE_SECONDS:
        raise ValidationError(EXPIRED_MESSAGE, code="expired")
    activity = (
        Activity.objects.filter(pk=activity_id).only("starts_at", "ends_at", "status").first()
    )
    if activity is None:
        raise ValidationError(INVALID_MESSAGE, code="invalid")
    if activity.status == ActivityStatus.CANCELLED:
        raise ValidationError(_("This activity has been cancelled."), code="cancelled")
    opens, closes = window(activity)
    if not opens <= now <= closes:
        raise ValidationError(
            _("Check-in for this activity is open from %(opens)s to %(closes)s only.")
            % {
                "opens": timezone.localtime(opens).strftime("%Y-%m-%d %H:%M"),
                "closes": timezone.localtime(closes).strftime("%Y-%m-%d %H:%M"),
            },
            code="outside_window",
        )
    return activity_id, direction
