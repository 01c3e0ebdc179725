import pytest

from apps.core.tests.matrix import case, parametrize, run_case

CASES = [
    case("portal:home", default=200, anonymous=302),
    case("portal:profile", default=200, anonymous=302),
    case("portal:home", "POST", default=405, anonymous=302),
]


@pytest.mark.parametrize(("c", "role"), parametrize(CASES))
def test_portal_permissions(c, role, world, client, api_as):
    run_case(c, role, world, client, api_as)
