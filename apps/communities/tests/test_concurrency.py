"""Two members claim the last place on a post at the same moment: only one gets it."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from apps.communities import services
from apps.communities.models import Community, Post, PostClaim
from apps.communities.tests.fixtures import make_member, make_report
from apps.organizations.models import OrganizationKind
from apps.organizations.tests.factories import PartyOrganizationFactory


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_claims_for_the_last_place_leave_one():
    branch = PartyOrganizationFactory(code="CC", kind=OrganizationKind.BRANCH)
    community = Community.objects.create(
        name="并发社区", district="区", street="街", organization=branch
    )
    post = Post.objects.create(community=community, title="最后一个岗位", slots=1)
    members = [make_member(branch) for _ in range(2)]
    for member in members:
        make_report(member, community)
    barrier = threading.Barrier(2)
    outcomes = []

    def claim(member):
        try:
            barrier.wait(timeout=5)
            services.post_claim(user=member, post=post)
            outcomes.append("claimed")
        except ValidationError as error:
            outcomes.append(error.code if hasattr(error, "code") else error.messages[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(member,)) for member in members]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(outcomes) == ["claimed", "post_full"], outcomes
    assert PostClaim.objects.filter(post=post).count() == 1
