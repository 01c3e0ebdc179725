"""Certificate pages: my list, the request form (and each refusal), the PDF, the public
verification page; the admin's actions and bulk issue; the API's request and decisions; query
budgets on the lists."""

import datetime
import shutil
import subprocess

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.core.models import AuditEntry
from apps.organizations.tests.factories import MembershipFactory
from apps.service_records import certificates as services
from apps.service_records.models import Certificate, CertificateStatus, IssuerProfile
from apps.service_records.tests.certificate_fixtures import (  # noqa: F401
    FEB,
    JAN,
    cworld,
    make_certificate,
    make_record,
)
from conftest import zh

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(cworld):  # noqa: F811
    return cworld


def page(response) -> str:
    return response.content.decode()


def state():
    return (
        sorted(Certificate.objects.values_list("pk", "status", "number")),
        AuditEntry.objects.filter(action__startswith="certificate.").count(),
    )


class TestList:
    def test_my_certificates_with_their_statuses(self, client_as, w):
        html = page(client_as(w.cast.volunteer).get(reverse("portal:certificate-list")))
        for certificate in (w.requested, w.issued, w.rejected, w.revoked):
            assert f'data-certificate="{certificate.pk}"' in html
        for status in ("Requested", "Issued", "Rejected", "Revoked"):
            assert zh(status) in html
        assert reverse("portal:certificate-pdf", args=[w.issued.pk]) in html
        assert reverse("portal:certificate-pdf", args=[w.requested.pk]) not in html
        assert "时段有误" in html  # the reason for refusing
        assert "记录被撤销" in html  # the reason for revoking

    def test_others_certificates_are_not_listed(self, client_as, w):
        html = page(client_as(w.cast.team_leader).get(reverse("portal:certificate-list")))
        assert "data-certificate=" not in html
        assert zh("You have no certificates or requests yet.") in html

    def test_staff_see_how_many_requests_await(self, client_as, w):
        html = page(client_as(w.cast.branch_secretary).get(reverse("portal:certificate-list")))
        assert reverse("admin:service_records_certificate_changelist") in html


class TestRequestForm:
    url = "portal:certificate-request"

    def post(self, client_as, w, **data):
        payload = {
            "issuer": w.tree.branch.pk,
            "period_start": "2025-03-01",
            "period_end": "2025-03-31",
            "purpose": "升学",
        }
        payload.update(data)
        return client_as(w.cast.volunteer).post(reverse(self.url), payload)

    def test_the_choices_are_the_organisations_that_recorded_my_service(self, client_as, w):
        response = client_as(w.cast.volunteer).get(reverse(self.url))
        choices = list(response.context["form"].fields["issuer"].queryset)
        assert choices == [w.tree.branch]

    def test_without_service_the_page_says_so(self, client_as, w):
        html = page(client_as(w.cast.outsider).get(reverse(self.url)))
        assert zh("You have no approved service yet, so no organisation can certify it.") in html

    def test_request(self, client_as, w):
        response = self.post(client_as, w)
        assert response.status_code == 302
        assert response["Location"] == reverse("portal:certificate-list")
        created = Certificate.objects.get(
            volunteer=w.cast.volunteer, period_start=datetime.date(2025, 3, 1), status="requested"
        )
        assert created.purpose == "升学"

    def _refused(self, client_as, w, message, **data):
        before = state()
        response = self.post(client_as, w, **data)
        assert response.status_code == 200
        assert message in page(response), page(response)
        assert state() == before

    def test_no_records_from_that_issuer(self, client_as, w):
        message = zh(
            "%(issuer)s has no approved service of yours recorded in this period. "
            "A certificate comes from the organisation that recorded the service."
        ) % {"issuer": w.tree.branch.name}
        self._refused(client_as, w, message, period_start="2024-03-01", period_end="2024-03-31")

    def test_an_issuer_that_did_not_record_my_service_is_not_a_choice(self, client_as, w):
        self._refused(
            client_as,
            w,
            zh("Select a valid choice. That choice is not one of the available choices."),
            issuer=w.tree.other_branch.pk,
        )

    def test_future_period(self, client_as, w):
        tomorrow = timezone.localdate() + datetime.timedelta(days=1)
        self._refused(
            client_as,
            w,
            zh("The period cannot end in the future."),
            period_end=tomorrow.isoformat(),
        )

    def test_end_before_start(self, client_as, w):
        self._refused(
            client_as,
            w,
            zh("The period cannot end before it starts."),
            period_start="2025-03-31",
            period_end="2025-03-01",
        )

    def test_duplicate_request(self, client_as, w):
        message = zh("You have already asked %(issuer)s for a certificate for this period.") % {
            "issuer": w.tree.branch.name
        }
        self._refused(
            client_as, w, message, period_start=JAN[0].isoformat(), period_end=JAN[1].isoformat()
        )

    def test_missing_dates(self, client_as, w):
        self._refused(client_as, w, zh("This field is required."), period_start="")


def _pdf_text(pdf: bytes) -> str:
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    return "".join(text.split())  # letter-spaced titles and wrapped lines come back whole


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs poppler-utils")
class TestPdfAndVerification:
    def test_journey_issue_download_verify_revoke(self, client, client_as, w):
        certificate = services.certificate_issue(
            actor=w.cast.branch_secretary, certificate=w.requested
        )
        response = client_as(w.cast.volunteer).get(
            reverse("portal:certificate-pdf", args=[certificate.pk])
        )
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        text = _pdf_text(response.content)
        assert "志愿服务证明" in text and "王秀英" in text and certificate.number in text
        verify = reverse("portal:certificate-verify", args=[certificate.verification_token])
        assert verify in text
        assert AuditEntry.objects.filter(
            action="certificate.download", actor=w.cast.volunteer
        ).exists()

        client.logout()
        html = page(client.get(verify))
        assert 'data-verdict="genuine"' in html
        assert zh("This certificate is genuine.") in html
        assert certificate.number in html
        assert "王*英" in html and "王秀英" not in html
        assert w.cast.volunteer.id_number not in html
        assert certificate.id_number_masked not in html
        assert "4.0" in html

        services.certificate_revoke(
            actor=w.cast.branch_secretary, certificate=certificate, reason="记录有误"
        )
        html = page(client.get(verify))
        assert 'data-verdict="revoked"' in html
        revoked_on = timezone.localdate().isoformat()
        assert (
            zh("This certificate was revoked on %(date)s and is no longer valid.")
            % {"date": revoked_on}
            in html
        )
        assert (
            client_as(w.cast.volunteer)
            .get(reverse("portal:certificate-pdf", args=[certificate.pk]))
            .status_code
            == 404
        )

    def test_unknown_token(self, client, w):
        response = client.get(reverse("portal:certificate-verify", args=["no-such-token"]))
        assert response.status_code == 404
        assert zh(
            "No certificate matches this code. It was not issued by this platform, or the "
            "link is incomplete."
        ) in page(response)

    def test_a_request_has_no_verification_page(self, client, w):
        response = client.get(
            reverse("portal:certificate-verify", args=[w.requested.verification_token])
        )
        assert response.status_code == 404


class TestAdmin:
    changelist = "admin:service_records_certificate_changelist"

    def test_issue_selected(self, client_as, w):
        client = client_as(w.cast.branch_secretary)
        response = client.post(
            reverse(self.changelist),
            {"action": "issue_selected", "_selected_action": [w.requested.pk, w.issued.pk]},
            follow=True,
        )
        w.requested.refresh_from_db()
        assert w.requested.status == CertificateStatus.ISSUED and w.requested.number
        shown = [str(m) for m in response.context["messages"]]
        refusal = zh("Only a requested certificate can be issued; this one is %(status)s.") % {
            "status": zh("Issued")
        }
        assert any(refusal in m for m in shown), shown
        assert zh("%(count)s certificates issued.") % {"count": 1} in shown

    def test_reject_asks_for_a_reason_first(self, client_as, w):
        client = client_as(w.cast.branch_secretary)
        data = {"action": "reject_selected", "_selected_action": [w.requested.pk]}
        response = client.post(reverse(self.changelist), data)
        assert response.status_code == 200
        assert zh("Refuse certificate requests") in page(response)
        before = state()
        response = client.post(reverse(self.changelist), {**data, "apply": "1", "reason": ""})
        assert response.status_code == 200
        assert state() == before
        client.post(reverse(self.changelist), {**data, "apply": "1", "reason": "时段不符"})
        w.requested.refresh_from_db()
        assert w.requested.status == CertificateStatus.REJECTED
        assert w.requested.rejection_reason == "时段不符"

    def test_revoke_with_a_reason(self, client_as, w):
        client = client_as(w.cast.branch_secretary)
        data = {"action": "revoke_selected", "_selected_action": [w.issued.pk]}
        client.post(reverse(self.changelist), {**data, "apply": "1", "reason": "重复出具"})
        w.issued.refresh_from_db()
        assert w.issued.status == CertificateStatus.REVOKED

    def test_the_inspector_cannot_act(self, client_as, w):
        client = client_as(w.cast.inspector)
        response = client.post(
            reverse(self.changelist),
            {"action": "issue_selected", "_selected_action": [w.requested.pk]},
        )
        assert response.status_code in (200, 302)
        w.requested.refresh_from_db()
        assert w.requested.status == CertificateStatus.REQUESTED

    def test_bulk_issue(self, client_as, w):
        make_record(w.cast.team_leader, datetime.date(2025, 1, 8), team=w.team)
        client = client_as(w.cast.branch_secretary)
        url = reverse("admin:service_records_certificate_bulk_issue")
        assert client.get(url).status_code == 200
        response = client.post(
            url,
            {
                "organization": w.tree.branch.pk,
                "period_start": "2025-01-01",
                "period_end": "2025-01-31",
            },
        )
        assert response.status_code == 302
        issued = Certificate.objects.filter(
            issuer=w.tree.branch, period_start=JAN[0], period_end=JAN[1], status="issued"
        )
        assert {c.volunteer.username for c in issued} == {"volunteer", "team_leader"}

    def test_bulk_issue_without_issuer_details(self, client_as, w):
        IssuerProfile.objects.all().delete()
        before = state()
        response = client_as(w.cast.branch_secretary).post(
            reverse("admin:service_records_certificate_bulk_issue"),
            {
                "organization": w.tree.branch.pk,
                "period_start": "2025-01-01",
                "period_end": "2025-01-31",
            },
        )
        assert response.status_code == 200
        assert w.tree.branch.name in page(response)
        assert state() == before

    def test_snapshot_fields_are_read_only(self, client_as, w):
        url = reverse("admin:service_records_certificate_change", args=[w.issued.pk])
        html = page(client_as(w.cast.branch_secretary).get(url))
        assert 'name="hours"' not in html and 'name="volunteer_name"' not in html

    def test_issuer_details_refuse_a_seal_over_2_mb(self, client_as, w):
        import io
        import os

        from django.core.files.uploadedfile import SimpleUploadedFile
        from PIL import Image

        buffer = io.BytesIO()
        Image.frombytes("RGB", (1000, 1000), os.urandom(3_000_000)).save(buffer, format="PNG")
        assert buffer.tell() > 2 * 1024 * 1024
        url = reverse("admin:service_records_issuerprofile_change", args=[w.profile.pk])
        response = client_as(w.cast.branch_secretary).post(
            url,
            {
                "organization": w.tree.branch.pk,
                "person_in_charge": "陈志强",
                "contact": "027-1",
                "seal_image": SimpleUploadedFile("seal.png", buffer.getvalue(), "image/png"),
            },
        )
        assert response.status_code == 200
        assert zh("The seal image may be at most 2 MB.") in page(response)
        w.profile.refresh_from_db()
        assert not w.profile.seal_image and w.profile.contact != "027-1"


class TestApi:
    def test_request_for_yourself(self, api_as, w):
        response = api_as(w.cast.volunteer).post(
            reverse("api:certificate-list"),
            {"issuer": w.tree.branch.pk, "period_start": "2025-03-01", "period_end": "2025-03-31"},
            format="json",
        )
        assert response.status_code == 201, response.content
        assert response.json()["volunteer"] == w.cast.volunteer.pk

    def test_request_refused_with_the_message(self, api_as, w):
        before = state()
        response = api_as(w.cast.volunteer).post(
            reverse("api:certificate-list"),
            {"issuer": w.tree.branch.pk, "period_start": "2025-03-31", "period_end": "2025-03-01"},
            format="json",
        )
        assert response.status_code == 400
        assert zh("The period cannot end before it starts.") in response.content.decode()
        assert state() == before

    def test_issue_and_download(self, api_as, w):
        api = api_as(w.cast.branch_secretary)
        response = api.post(reverse("api:certificate-issue", args=[w.requested.pk]))
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["status"] == "issued" and body["number"].startswith("ZYFW-")
        pdf = api.get(reverse("api:certificate-pdf", args=[w.requested.pk]))
        assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"

    def test_issue_without_profile(self, api_as, w):
        IssuerProfile.objects.all().delete()
        before = state()
        response = api_as(w.cast.branch_secretary).post(
            reverse("api:certificate-issue", args=[w.requested.pk])
        )
        assert response.status_code == 400
        assert w.tree.branch.name in response.json()[0]
        assert state() == before

    def test_reject_needs_a_reason(self, api_as, w):
        response = api_as(w.cast.branch_secretary).post(
            reverse("api:certificate-reject", args=[w.requested.pk]), {}, format="json"
        )
        assert response.status_code == 400
        assert "reason" in response.json()

    def test_pdf_of_a_request(self, api_as, w):
        response = api_as(w.cast.volunteer).get(
            reverse("api:certificate-pdf", args=[w.requested.pk])
        )
        assert response.status_code == 400
        assert zh("Only an issued certificate can be printed.") in response.content.decode()


# Query budgets -----------------------------------------------------------------------------


def _grow(w, rows):
    for index in range(rows):
        make_certificate(
            w.cast.volunteer,
            w.tree.branch,
            (datetime.date(2024, 1, 1), datetime.date(2024, 1, 1) + datetime.timedelta(days=index)),
            status=CertificateStatus.ISSUED if index % 2 else CertificateStatus.REQUESTED,
        )


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


@pytest.mark.parametrize(
    ("url_name", "role"),
    [
        ("portal:certificate-list", "volunteer"),
        ("portal:certificate-list", "branch_secretary"),
        ("api:certificate-list", "volunteer"),
        ("api:certificate-list", "branch_secretary"),
        ("admin:service_records_certificate_changelist", "branch_secretary"),
    ],
)
def test_list_queries_do_not_grow_with_rows(client_as, api_as, w, url_name, role):
    user = getattr(w.cast, role)
    client = api_as(user) if url_name.startswith("api:") else client_as(user)
    url = reverse(url_name)
    _grow(w, 10)
    small = _count(client, url)
    _grow(w, 90)
    assert _count(client, url) == small


def test_bulk_issue_for_many_members(w):
    for _ in range(5):
        user = MembershipFactory(organization=w.tree.branch).user
        make_record(user, datetime.date(2025, 1, 9), team=w.team)
    issued = services.certificate_bulk_issue(
        actor=w.cast.branch_secretary,
        organization=w.tree.branch,
        period_start=JAN[0],
        period_end=JAN[1],
    )
    assert len(issued) == 6
    assert len({c.number for c in issued}) == 6
