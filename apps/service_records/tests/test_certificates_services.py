"""Certificate services: request, issue (snapshot and number), refuse, revoke, bulk issue.

Every refusal is checked for its message and for leaving the database as it was.
"""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import override_settings

from apps.core.models import AuditEntry
from apps.organizations.tests.factories import MembershipFactory
from apps.service_records import certificates as services
from apps.service_records.models import Certificate, CertificateStatus, IssuerProfile, RecordStatus
from apps.service_records.tests.certificate_fixtures import (  # noqa: F401
    FEB,
    ISSUE_DAY,
    JAN,
    cworld,
    issuer_profile,
    make_certificate,
    make_record,
)
from apps.teams.tests.fixtures import make_profile
from conftest import zh

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2025, 6, 1)


@pytest.fixture
def w(cworld):  # noqa: F811
    return cworld


def snapshot():
    return sorted(
        Certificate.objects.values_list("pk", "status", "number", "hours", "handler_name")
    )


def refused(call, **kwargs) -> str:
    """Run a service that must refuse; return its message(s), joined."""
    before = (snapshot(), AuditEntry.objects.count())
    with pytest.raises(ValidationError) as caught:
        call(**kwargs)
    assert (snapshot(), AuditEntry.objects.count()) == before, "a refusal changed the database"
    return " ".join(caught.value.messages)


def ask(w, period, *, issuer=None, volunteer=None, **kwargs):
    return services.certificate_request(
        volunteer=volunteer or w.cast.volunteer,
        issuer=issuer or w.tree.branch,
        period_start=period[0],
        period_end=period[1],
        today=kwargs.pop("today", TODAY),
        **kwargs,
    )


class TestRequest:
    def test_request_for_a_period_with_records(self, w):
        certificate = ask(
            w, (datetime.date(2025, 1, 1), datetime.date(2025, 3, 31)), purpose="升学"
        )
        assert certificate.status == CertificateStatus.REQUESTED
        assert certificate.number is None
        assert certificate.requested_by == w.cast.volunteer
        assert AuditEntry.objects.filter(action="certificate.request").count() == 1

    def test_a_higher_organisation_certifies_its_subtree(self, w):
        certificate = ask(
            w, (datetime.date(2025, 1, 1), datetime.date(2025, 3, 31)), issuer=w.tree.street
        )
        assert certificate.issuer == w.tree.street

    def test_no_records_from_that_issuer(self, w):
        message = refused(
            ask,
            w=w,
            period=(datetime.date(2025, 1, 1), datetime.date(2025, 3, 31)),
            issuer=w.tree.other_branch,
        )
        assert message == zh(
            "%(issuer)s has no approved service of yours recorded in this period. "
            "A certificate comes from the organisation that recorded the service."
        ) % {"issuer": w.tree.other_branch.name}

    def test_only_approved_records_count(self, w):
        make_record(
            w.cast.volunteer, datetime.date(2025, 5, 3), team=w.team, status=RecordStatus.SUBMITTED
        )
        message = refused(ask, w=w, period=(datetime.date(2025, 5, 1), datetime.date(2025, 5, 31)))
        assert w.tree.branch.name in message

    def test_records_of_a_sibling_branch_do_not_count(self, w):
        message = refused(
            ask,
            w=w,
            period=(datetime.date(2025, 1, 1), datetime.date(2025, 3, 31)),
            issuer=w.tree.sibling_branch,
        )
        assert w.tree.sibling_branch.name in message

    def test_future_period(self, w):
        message = refused(ask, w=w, period=(datetime.date(2025, 5, 1), datetime.date(2025, 6, 30)))
        assert message == zh("The period cannot end in the future.")

    def test_end_before_start(self, w):
        message = refused(ask, w=w, period=(datetime.date(2025, 2, 1), datetime.date(2025, 1, 1)))
        assert message == zh("The period cannot end before it starts.")

    def test_missing_period(self, w):
        message = refused(ask, w=w, period=(None, datetime.date(2025, 1, 1)))
        assert message == zh("Give the period: a start and an end date.")

    def test_duplicate_open_request(self, w):
        message = refused(ask, w=w, period=JAN)
        assert message == zh(
            "You have already asked %(issuer)s for a certificate for this period."
        ) % {"issuer": w.tree.branch.name}

    def test_already_issued_for_the_period(self, w):
        message = refused(ask, w=w, period=FEB)
        assert message == zh(
            "%(issuer)s has already issued a certificate for this period: download it "
            "from My certificates."
        ) % {"issuer": w.tree.branch.name}

    def test_after_a_refusal_one_may_ask_again(self, w):
        rejected = w.rejected
        again = ask(w, (rejected.period_start, rejected.period_end))
        assert again.pk != rejected.pk


class TestIssue:
    def test_issue_copies_the_printed_facts(self, w):
        secretary = w.cast.branch_secretary
        certificate = services.certificate_issue(
            actor=secretary, certificate=w.requested, today=ISSUE_DAY
        )
        certificate.refresh_from_db()
        volunteer = w.cast.volunteer
        assert certificate.status == CertificateStatus.ISSUED
        assert certificate.number == "ZYFW-2025-000001"
        assert certificate.volunteer_name == "王秀英"
        assert certificate.id_type == "居民身份证"
        assert certificate.id_number_masked == volunteer.id_number_masked
        assert (
            "*" in certificate.id_number_masked
            and volunteer.id_number not in certificate.id_number_masked
        )
        assert certificate.volunteer_number == volunteer.volunteer_profile.volunteer_number
        assert certificate.hours == Decimal("4.0")
        assert certificate.record_count == 2
        assert "助老" in certificate.content and "敬老院陪伴" in certificate.content
        assert certificate.issuer_name == w.tree.branch.name
        assert certificate.person_in_charge == "陈志强"
        assert certificate.contact == w.profile.contact
        assert certificate.handler_name == secretary.get_full_name()
        assert certificate.issued_on == ISSUE_DAY
        assert certificate.decided_by == secretary
        entry = AuditEntry.objects.get(action="certificate.issue")
        assert entry.details["number"] == certificate.number

    def test_the_snapshot_does_not_follow_later_changes(self, w):
        certificate = services.certificate_issue(
            actor=w.cast.branch_secretary, certificate=w.requested
        )
        w.cast.volunteer.real_name = "王改名"
        w.cast.volunteer.save()
        make_record(w.cast.volunteer, datetime.date(2025, 1, 25), team=w.team)
        certificate.refresh_from_db()
        assert certificate.volunteer_name == "王秀英"
        assert certificate.hours == Decimal("4.0")

    def test_content_lists_categories_and_main_activities(self, w):
        issuer_profile(w.tree.street)
        cert = ask(w, (datetime.date(2025, 1, 1), datetime.date(2025, 3, 31)), issuer=w.tree.street)
        services.certificate_issue(actor=w.cast.city_admin, certificate=cert)
        cert.refresh_from_db()
        assert cert.hours == Decimal("7.5")
        assert cert.record_count == 4
        assert "助老、环境保护" in cert.content
        assert "敬老院陪伴、河道清理" in cert.content

    def test_hours_round_to_a_tenth(self, w):
        make_record(w.cast.volunteer, datetime.date(2025, 5, 2), hours=1 + 5 / 60, team=w.team)
        cert = ask(w, (datetime.date(2025, 5, 1), datetime.date(2025, 5, 31)))
        services.certificate_issue(actor=w.cast.branch_secretary, certificate=cert)
        cert.refresh_from_db()
        assert cert.hours == Decimal("1.1")

    def test_issuing_without_issuer_details(self, w):
        IssuerProfile.objects.all().delete()
        message = refused(
            services.certificate_issue, actor=w.cast.branch_secretary, certificate=w.requested
        )
        assert message == zh(
            "%(issuer)s has no certificate issuer details (person in charge and contact). "
            "Ask its staff to fill them in under Administration → Certificate issuers."
        ) % {"issuer": w.tree.branch.name}

    def test_nobody_issues_their_own(self, w):
        secretary = w.cast.branch_secretary
        make_record(secretary, datetime.date(2025, 1, 12), team=w.team)
        own = ask(w, JAN, volunteer=secretary)
        message = refused(services.certificate_issue, actor=secretary, certificate=own)
        assert message == zh("Nobody issues, refuses or revokes their own certificate.")

    @pytest.mark.parametrize(
        "role", ["other_branch_secretary", "inspector", "team_leader", "outsider"]
    )
    def test_only_the_issuer_issues(self, w, role):
        before = snapshot()
        with pytest.raises(PermissionDenied):
            services.certificate_issue(actor=getattr(w.cast, role), certificate=w.requested)
        assert snapshot() == before

    def test_issuing_twice(self, w):
        message = refused(
            services.certificate_issue, actor=w.cast.branch_secretary, certificate=w.issued
        )
        assert message == zh(
            "Only a requested certificate can be issued; this one is %(status)s."
        ) % {"status": zh("Issued")}

    def test_records_revoked_since_the_request(self, w):
        w.cast.volunteer.service_records.filter(service_date__month=1).update(
            status=RecordStatus.REVOKED
        )
        message = refused(
            services.certificate_issue, actor=w.cast.branch_secretary, certificate=w.requested
        )
        assert message == zh(
            "%(issuer)s has no approved service of this volunteer in the period any more."
        ) % {"issuer": w.tree.branch.name}


class TestNumbers:
    def _request(self, w, day):
        user = MembershipFactory(organization=w.tree.branch).user
        make_record(user, day, team=w.team)
        return services.certificate_request(
            volunteer=user, issuer=w.tree.branch, period_start=day, period_end=day, today=TODAY
        )

    def test_numbers_run_per_year(self, w):
        numbers = []
        for issue_day in (ISSUE_DAY, ISSUE_DAY, ISSUE_DAY, datetime.date(2026, 1, 2)):
            cert = self._request(w, datetime.date(2025, 1, 5))
            numbers.append(
                services.certificate_issue(
                    actor=w.cast.branch_secretary, certificate=cert, today=issue_day
                ).number
            )
        assert numbers == [
            "ZYFW-2025-000001",
            "ZYFW-2025-000002",
            "ZYFW-2025-000003",
            "ZYFW-2026-000001",
        ]

    def test_the_sequence_continues_after_the_highest(self, w):
        make_certificate(
            w.cast.team_leader,
            w.tree.branch,
            JAN,
            status=CertificateStatus.REVOKED,
            number="ZYFW-2025-000041",
        )
        cert = services.certificate_issue(
            actor=w.cast.branch_secretary, certificate=w.requested, today=ISSUE_DAY
        )
        assert cert.number == "ZYFW-2025-000042"

    @override_settings(CERTIFICATE_NUMBER_PREFIX="JCZY")
    def test_the_prefix_is_a_setting(self, w):
        cert = services.certificate_issue(
            actor=w.cast.branch_secretary, certificate=w.requested, today=ISSUE_DAY
        )
        assert cert.number == "JCZY-2025-000001"


class TestRejectAndRevoke:
    def test_reject_with_reason(self, w):
        cert = services.certificate_reject(
            actor=w.cast.branch_secretary, certificate=w.requested, reason="时段与记录不符"
        )
        cert.refresh_from_db()
        assert cert.status == CertificateStatus.REJECTED
        assert cert.rejection_reason == "时段与记录不符"
        assert AuditEntry.objects.filter(action="certificate.reject").exists()

    def test_reject_needs_a_reason(self, w):
        message = refused(
            services.certificate_reject,
            actor=w.cast.branch_secretary,
            certificate=w.requested,
            reason="  ",
        )
        assert message == zh("Give a reason for refusing.")

    def test_reject_an_issued_one(self, w):
        message = refused(
            services.certificate_reject,
            actor=w.cast.branch_secretary,
            certificate=w.issued,
            reason="x",
        )
        assert message == zh(
            "Only a requested certificate can be refused; this one is %(status)s."
        ) % {"status": zh("Issued")}

    def test_revoke_with_reason(self, w):
        cert = services.certificate_revoke(
            actor=w.cast.branch_secretary, certificate=w.issued, reason="记录有误"
        )
        cert.refresh_from_db()
        assert cert.status == CertificateStatus.REVOKED
        assert cert.revoked_at is not None and cert.revoke_reason == "记录有误"
        assert AuditEntry.objects.filter(action="certificate.revoke").exists()

    def test_revoke_needs_a_reason(self, w):
        message = refused(
            services.certificate_revoke,
            actor=w.cast.branch_secretary,
            certificate=w.issued,
            reason="",
        )
        assert message == zh("Give a reason for revoking.")

    def test_revoke_a_request(self, w):
        message = refused(
            services.certificate_revoke,
            actor=w.cast.branch_secretary,
            certificate=w.requested,
            reason="x",
        )
        assert message == zh(
            "Only an issued certificate can be revoked; this one is %(status)s."
        ) % {"status": zh("Requested")}


class TestBulkIssue:
    def bulk(self, w, period=(datetime.date(2025, 1, 1), datetime.date(2025, 3, 31)), actor=None):
        return services.certificate_bulk_issue(
            actor=actor or w.cast.branch_secretary,
            organization=w.tree.branch,
            period_start=period[0],
            period_end=period[1],
            today=TODAY,
        )

    def test_every_member_with_hours_gets_one(self, w):
        make_profile(w.cast.team_leader)
        make_record(w.cast.team_leader, datetime.date(2025, 2, 3), team=w.team)
        make_record(w.cast.branch_secretary, datetime.date(2025, 2, 4), team=w.team)
        MembershipFactory(organization=w.tree.branch)  # no hours: no certificate
        issued = self.bulk(w)
        assert sorted(c.volunteer.username for c in issued) == ["team_leader", "volunteer"]
        assert all(c.status == CertificateStatus.ISSUED and c.number for c in issued)
        assert len({c.number for c in issued}) == 2
        assert AuditEntry.objects.filter(action="certificate.bulk_issue").count() == 1

    def test_an_open_request_for_the_period_is_issued_not_duplicated(self, w):
        issued = self.bulk(w, period=JAN)
        assert [c.pk for c in issued] == [w.requested.pk]

    def test_those_already_holding_one_are_skipped(self, w):
        message = refused(self.bulk, w=w, period=FEB)
        assert message == zh(
            "Every member with service in this period already holds a certificate for it."
        )

    def test_no_member_with_hours(self, w):
        message = refused(
            self.bulk, w=w, period=(datetime.date(2025, 5, 1), datetime.date(2025, 5, 31))
        )
        assert message == zh(
            "No member of %(organization)s has approved service it recorded in this period."
        ) % {"organization": w.tree.branch.name}

    def test_without_issuer_details(self, w):
        IssuerProfile.objects.all().delete()
        message = refused(self.bulk, w=w)
        assert message == zh(
            "%(issuer)s has no certificate issuer details (person in charge and contact). "
            "Ask its staff to fill them in under Administration → Certificate issuers."
        ) % {"issuer": w.tree.branch.name}

    def test_future_period(self, w):
        message = refused(
            self.bulk, w=w, period=(datetime.date(2025, 5, 1), datetime.date(2025, 7, 1))
        )
        assert message == zh("The period cannot end in the future.")

    def test_another_branch_is_not_yours(self, w):
        with pytest.raises(PermissionDenied):
            self.bulk(w, actor=w.cast.other_branch_secretary)


def test_mask_name():
    assert services.mask_name("王秀英") == "王*英"
    assert services.mask_name("李明") == "李*"
    assert services.mask_name("欧阳小明") == "欧**明"
    assert services.mask_name("") == ""


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_issues_take_different_numbers(world):
    branch = world.tree.branch
    issuer_profile(branch)
    certificates = []
    for _ in range(2):
        user = MembershipFactory(organization=branch).user
        make_record(user, datetime.date(2025, 1, 5), team=world.team)
        certificates.append(make_certificate(user, branch, JAN))
    barrier = threading.Barrier(2)
    numbers, errors = [], []

    def issue(certificate):
        try:
            barrier.wait(timeout=5)
            issued = services.certificate_issue(
                actor=world.cast.branch_secretary, certificate=certificate, today=ISSUE_DAY
            )
            numbers.append(issued.number)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=issue, args=(c,)) for c in certificates]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert not errors, errors
    assert sorted(numbers) == ["ZYFW-2025-000001", "ZYFW-2025-000002"]
