"""The portal's household pages for every role (the objects are described in ``rworld``).

The household belongs to 桂园社区 (the branch's community) and is paired with the volunteer.
It is seen by the paired volunteer, the community's staff, the district's inspector, the
branch's secretary and the city; changed by the staff, the secretary and the city. Roles
that do not see it get 404; those who see it but may not change it 403.
"""

import pytest
from django.utils import timezone

from apps.care.tests.recipients_fixtures import rworld  # noqa: F401
from apps.core.tests.matrix import case, parametrize, run_case

UNSEEN = {"outsider": 404, "team_leader": 404, "other_branch_secretary": 404}
MANAGERS = {"community_staff": 302, "branch_secretary": 302, "city_admin": 302}
READERS = {"volunteer": 403, "inspector": 403}


def pk(attribute):
    return lambda w: {"pk": getattr(w, attribute).pk}


def spare_number(w):
    return w.spare_profile.volunteer_number


def _today():
    return timezone.localdate().isoformat()


CASES = [
    case("portal:my-household", default=200, anonymous=302),
    case(
        "portal:visit-add",
        kwargs=pk("pairing"),
        default=200,
        anonymous=302,
        inspector=403,
        **UNSEEN,
    ),
    case(
        "portal:visit-add",
        "POST",
        kwargs=pk("pairing"),
        data=lambda w: {"visited_on": _today(), "kind": "visit", "duration_minutes": 30},
        default=302,
        inspector=403,
        **UNSEEN,
    ),
    case("portal:care-recipient-list", default=200, anonymous=302),
    case(
        "portal:care-recipient-create",
        default=200,
        anonymous=302,
        outsider=403,
        volunteer=403,
        team_leader=403,
        inspector=403,
        community_staff=200,
    ),
    case(
        "portal:care-recipient-create",
        "POST",
        data=lambda w: {"community": w.community.pk, "name": "测试老人丙"},
        # The other branch's secretary manages another community: the form comes back.
        default=302,
        outsider=403,
        volunteer=403,
        team_leader=403,
        inspector=403,
        other_branch_secretary=200,
        community_staff=302,
    ),
    case(
        "portal:care-recipient-detail",
        kwargs=pk("household"),
        default=200,
        anonymous=302,
        **UNSEEN,
    ),
    case(
        "portal:care-recipient-detail",
        kwargs=pk("household"),
        query="?reveal=1",
        default=200,
        anonymous=302,
        inspector=403,
        **UNSEEN,
    ),
    case(
        "portal:care-recipient-edit",
        kwargs=pk("household"),
        default=200,
        anonymous=302,
        community_staff=200,
        **READERS,
        **UNSEEN,
    ),
    case(
        "portal:care-recipient-edit",
        "POST",
        kwargs=pk("household"),
        data=lambda w: {"community": w.community.pk, "name": "测试老人甲"},
        default=302,
        community_staff=302,
        **READERS,
        **UNSEEN,
    ),
    case(
        "portal:care-recipient-verify",
        "POST",
        kwargs=pk("household"),
        data=lambda w: {"fact": "health"},
        default=302,
        community_staff=302,
        **READERS,
        **UNSEEN,
    ),
    case(
        "portal:care-recipient-deactivate",
        "POST",
        kwargs=pk("household"),
        data=lambda w: {"reason": "迁出本社区（虚构）"},
        default=302,
        community_staff=302,
        **READERS,
        **UNSEEN,
    ),
    case(
        "portal:care-pairing-create",
        "POST",
        kwargs=pk("household"),
        data=lambda w: {
            "volunteer_number": w.spare_profile.volunteer_number,
            "visit_every_days": 30,
        },
        default=302,
        community_staff=302,
        **READERS,
        **UNSEEN,
    ),
    case(
        "portal:care-pairing-end",
        "POST",
        kwargs=pk("pairing"),
        data=lambda w: {"reason": "志愿者搬家"},
        default=302,
        community_staff=302,
        **READERS,
        **UNSEEN,
    ),
    case(
        "portal:care-pairing-handover",
        "POST",
        kwargs=pk("pairing"),
        data=lambda w: {
            "volunteer_number": w.spare_profile.volunteer_number,
            "reason": "志愿者搬家",
        },
        default=302,
        community_staff=302,
        **READERS,
        **UNSEEN,
    ),
    case("portal:care-overdue", default=200, anonymous=302),
    case(
        "portal:care-recipient-export",
        default=200,
        anonymous=302,
        outsider=403,
        volunteer=403,
        team_leader=403,
        inspector=403,
        community_staff=200,
    ),
]


@pytest.mark.parametrize(("c", "role"), parametrize(CASES))
def test_portal_care_permissions(c, role, rworld, client, api_as):  # noqa: F811
    run_case(c, role, rworld, client, api_as)
