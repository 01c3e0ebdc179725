"""The export benchmark the project ships runs end to end (small, so the suite stays fast)."""

import io

import pytest
from django.core.management import CommandError, call_command

from apps.core.models import ExportJob
from apps.organizations.models import Membership
from conftest import zh

pytestmark = pytest.mark.django_db


def test_the_benchmark_builds_its_branch_and_times_both_formats():
    out = io.StringIO()
    call_command(
        "benchmark_exports", "--year", "2025", "--members", "4", "--records", "12",
        "--repeat", "1", stdout=out,
    )  # fmt: skip
    text = out.getvalue()
    assert "XLSX" in text and "PDF" in text
    assert text.count(zh("PASS")) == 2, text
    assert Membership.objects.filter(organization__code="BENCH-EXP").count() == 4
    # Timing goes through the exporters directly: no job, no file left behind.
    assert not ExportJob.objects.exists()


def test_a_benchmark_with_fewer_records_than_members_is_refused():
    with pytest.raises(CommandError) as error:
        call_command("benchmark_exports", "--members", "5", "--records", "2")
    assert zh("--members must be positive and --records at least --members.") in str(error.value)
    assert not Membership.objects.filter(organization__code="BENCH-EXP").exists()
