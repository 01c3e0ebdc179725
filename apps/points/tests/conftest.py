import pytest

from apps.accounts.tests.volunteer_helpers import add_profile


@pytest.fixture
def profile(volunteer, community):
    """The volunteer's registered profile: staff see their points where they see it."""
    return add_profile(volunteer, community=community)
