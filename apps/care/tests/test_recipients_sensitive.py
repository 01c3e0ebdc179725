"""For each role, the masked or whole form of each sensitive field, on the page and in the API.

A whole view writes exactly one audit entry naming the fields; a masked view writes none; a
reveal without entitlement is refused (403) and shows nothing whole.
"""

import pytest
from django.urls import reverse

from apps.care.selectors import mask_value, sensitive_fields_for
from apps.care.tests.recipients_fixtures import WHOLE, rworld  # noqa: F401
from apps.core.models import AuditEntry

GENERAL = {"name", "family_situation", "health", "address", "contact"}
ALL = GENERAL | {"correction_status"}

#: role → the fields it sees whole after asking (None: it does not see the household at all)
ENTITLED = {
    "outsider": None,
    "team_leader": None,
    "other_branch_secretary": None,
    "inspector": set(),
    "volunteer": GENERAL,  # the paired volunteer
    "branch_secretary": GENERAL,  # the paired volunteer's branch secretary
    "community_staff": ALL,
    "city_admin": ALL,
}

MASKED = {
    "name": "测****",
    "family_situation": "＊＊＊",
    "health": "＊＊＊",
    "address": "＊＊＊",
    "contact": "138****0000",
    "correction_status": "＊＊＊",
}


def _views():
    return AuditEntry.objects.filter(action="care.sensitive_view")


def test_masks():
    for field, masked in MASKED.items():
        assert mask_value(field, WHOLE[field]) == masked
    assert mask_value("correction_status", "") == "＊＊＊"  # not even whether it is set
    assert mask_value("health", "") == ""


@pytest.mark.parametrize(("role", "entitled"), ENTITLED.items())
def test_selector_entitlement(role, entitled, rworld):  # noqa: F811
    user = getattr(rworld.cast, role)
    fields = sensitive_fields_for(user=user, recipient=rworld.household)
    assert fields == (entitled or set())


@pytest.mark.parametrize(("role", "entitled"), ENTITLED.items())
def test_detail_page_is_masked_until_revealed(role, entitled, rworld, client_as):  # noqa: F811
    client = client_as(getattr(rworld.cast, role))
    url = reverse("portal:care-recipient-detail", kwargs={"pk": rworld.household.pk})
    response = client.get(url)
    if entitled is None:
        assert response.status_code == 404
        assert client.get(url + "?reveal=1").status_code == 404
        assert not _views().exists()
        return
    page = response.content.decode()
    assert response.status_code == 200
    for field in ALL:
        assert WHOLE[field] not in page, field
    assert MASKED["name"] in page and MASKED["contact"] in page
    assert not _views().exists()

    response = client.get(url + "?reveal=1")
    page = response.content.decode()
    if not entitled:
        assert response.status_code == 403
        assert all(WHOLE[field] not in page for field in ALL)
        assert not _views().exists()
        return
    assert response.status_code == 200
    for field in ALL:
        assert (WHOLE[field] in page) == (field in entitled), field
    entry = _views().get()
    assert entry.actor == getattr(rworld.cast, role)
    assert entry.target_id == str(rworld.household.pk)
    assert entry.details == {"fields": sorted(entitled), "via": "page"}


@pytest.mark.parametrize(("role", "entitled"), ENTITLED.items())
def test_api_is_masked_until_revealed(role, entitled, rworld, api_as):  # noqa: F811
    api = api_as(getattr(rworld.cast, role))
    pk = rworld.household.pk
    detail = reverse("api:care-recipient-detail", kwargs={"pk": pk})
    reveal = reverse("api:care-recipient-reveal", kwargs={"pk": pk})
    response = api.get(detail)
    if entitled is None:
        assert response.status_code == 404
        assert api.get(reveal).status_code == 404
        return
    assert response.status_code == 200
    assert {f: response.data[f] for f in ALL} == MASKED
    assert not _views().exists()
    listed = api.get(reverse("api:care-recipient-list")).data["results"]
    assert {f: listed[0][f] for f in ALL} == MASKED

    for url in (reveal, detail + "?reveal=1"):
        response = api.get(url)
        if not entitled:
            assert response.status_code == 403
            assert "name" not in response.data
            continue
        assert response.status_code == 200
        for field in ALL:
            expected = WHOLE[field] if field in entitled else MASKED[field]
            assert response.data[field] == expected, field
        assert response.data["whole_fields"] == sorted(entitled)
    if entitled:
        assert [e.details for e in _views()] == [{"fields": sorted(entitled), "via": "api"}] * 2
    else:
        assert not _views().exists()


def test_my_household_shows_whole_and_logs(rworld, client_as):  # noqa: F811
    page = client_as(rworld.cast.volunteer).get(reverse("portal:my-household")).content.decode()
    for field in GENERAL:
        assert WHOLE[field] in page
    assert WHOLE["correction_status"] not in page
    assert _views().get().details == {"fields": sorted(GENERAL), "via": "page"}


def test_admin_change_page_whole_only_for_entitled(rworld, client_as):  # noqa: F811
    url = reverse("admin:care_carerecipient_change", args=[rworld.household.pk])
    page = client_as(rworld.cast.inspector).get(url).content.decode()
    assert WHOLE["health"] not in page and MASKED["contact"] in page
    assert not _views().exists()
    page = client_as(rworld.cast.city_admin).get(url).content.decode()
    assert WHOLE["health"] in page and WHOLE["correction_status"] in page
    assert _views().get().details == {"fields": sorted(ALL), "via": "admin"}
    changelist = client_as(rworld.cast.city_admin).get(
        reverse("admin:care_carerecipient_changelist")
    )
    assert WHOLE["name"] not in changelist.content.decode()


@pytest.mark.parametrize("role", ["community_staff", "branch_secretary", "city_admin"])
def test_export_is_logged_with_entitled_fields(role, rworld, client_as):  # noqa: F811
    response = client_as(getattr(rworld.cast, role)).get(reverse("portal:care-recipient-export"))
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    entitled = ENTITLED[role]
    for field in ALL:
        assert (WHOLE[field] in text) == (field in entitled), field
    entry = AuditEntry.objects.get(action="care.sensitive_export")
    assert entry.details["fields"] == sorted(entitled)
    assert entry.details["via"] == "export"
    assert rworld.household.pk in entry.details["recipient_ids"]
