"""Small helpers shared by the activities tests."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.activities.models import Activity, ActivityPlan, ActivityPlanItem, Campaign, Signup
from apps.core.models import AuditEntry


def refused(call, **kwargs) -> list[str]:
    """The messages (in zh-hans, as pages show them) of the ValidationError ``call`` raises."""
    with pytest.raises(ValidationError) as info:
        call(**kwargs)
    return [str(m) for m in info.value.messages]


def forbidden(call, **kwargs) -> None:
    with pytest.raises(PermissionDenied):
        call(**kwargs)


def snapshot() -> tuple:
    """What the services write: compared before and after a refused call."""
    return (
        list(Activity.objects.order_by("pk").values()),
        list(Signup.objects.order_by("pk").values()),
        list(Campaign.objects.order_by("pk").values()),
        list(ActivityPlan.objects.order_by("pk").values()),
        list(ActivityPlanItem.objects.order_by("pk").values()),
        AuditEntry.objects.count(),
    )
