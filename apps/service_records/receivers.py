"""Turning an activity's completed attendance into a service record."""

from django.utils.translation import gettext as _

from .models import RecordSource, ServiceRecord
from .services import service_record_submit


def record_from_attendance(sender, *, signup, actor, **kwargs) -> ServiceRecord | None:
    """Create the check-in record for a sign-up once (a second check-out finds it there).

    Raises ValidationError when a recording rule refuses it (an overlapping record, say);
    the check-out's transaction then refuses the check-out with that message.
    """
    if ServiceRecord.objects.filter(signup=signup).exists():
        return None
    activity = signup.activity
    return service_record_submit(
        actor=actor,
        volunteer=signup.volunteer,
        activity_name=activity.title,
        category=activity.category,
        started_at=signup.checked_in_at,
        ended_at=signup.checked_out_at,
        place=activity.place,
        content=activity.description or _("Took part in the activity."),
        source=RecordSource.CHECK_IN,
        responsible_person=(
            activity.responsible.get_full_name()
            if activity.responsible_id
            else activity.organization.name
        ),
        activity=activity,
        signup=signup,
        late_reason=_("Attendance confirmed after the activity."),
    )
