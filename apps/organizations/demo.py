"""The demo organisation tree, its members and a user for every role.

Idempotent: everything is looked up by a stable key (organisation code, username) and only
created when missing, so running the seed twice changes nothing.
"""

import random
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from apps.accounts.choices import Ethnicity, Gender, PoliticalStatus
from apps.accounts.demo import demo_id_number, demo_name, demo_phone
from apps.accounts.models import User
from apps.core import crypto
from apps.core.scoping import scope_changed

from .models import (
    EmploymentStatus,
    Membership,
    MembershipCategory,
    OrganizationKind,
    OrganizationRole,
    PartyOrganization,
    RoleKind,
)

DEMO_PASSWORD = "Demo@2026"
K = OrganizationKind

# (code, name, kind, parent code)
TREE = [
    ("JC", "中共江城市委员会", K.CITY_COMMITTEE, None),
    ("JC-JG", "中共江城市直属机关工作委员会", K.WORKING_COMMITTEE, "JC"),
    ("JC-JG-JY", "市教育局机关党总支", K.GENERAL_BRANCH, "JC-JG"),
    ("JC-JG-JY-1", "市教育局机关第一党支部", K.BRANCH, "JC-JG-JY"),
    ("JC-JG-JY-2", "市教育局机关第二党支部", K.BRANCH, "JC-JG-JY"),
    ("JC-JG-WJ", "市卫生健康委机关党支部", K.BRANCH, "JC-JG"),
    ("JC-JG-MZ", "市民政局机关党支部", K.BRANCH, "JC-JG"),
    ("JC-DH", "中共江城市东湖区委员会", K.PARTY_COMMITTEE, "JC"),
    ("JC-DH-DHJD", "东湖街道党工委", K.WORKING_COMMITTEE, "JC-DH"),
    ("JC-DH-DHJD-GY", "桂园社区党支部", K.BRANCH, "JC-DH-DHJD"),
    ("JC-DH-DHJD-HB", "湖滨社区党支部", K.BRANCH, "JC-DH-DHJD"),
    ("JC-DH-DHJD-CL", "翠柳社区党支部", K.BRANCH, "JC-DH-DHJD"),
    ("JC-DH-DHJD-FL", "枫林社区党支部", K.BRANCH, "JC-DH-DHJD"),
    ("JC-DH-SL", "水岸街道党工委", K.WORKING_COMMITTEE, "JC-DH"),
    ("JC-DH-SL-QS", "青石社区党支部", K.BRANCH, "JC-DH-SL"),
    ("JC-DH-SL-MY", "明月社区党支部", K.BRANCH, "JC-DH-SL"),
    ("JC-XS", "中共江城市西山区委员会", K.PARTY_COMMITTEE, "JC"),
    ("JC-XS-XSZ", "西山镇党委", K.PARTY_COMMITTEE, "JC-XS"),
    ("JC-XS-XSZ-TQ", "桃溪村党支部", K.BRANCH, "JC-XS-XSZ"),
    ("JC-XS-XSZ-LH", "柳河村党支部", K.BRANCH, "JC-XS-XSZ"),
    ("JC-XS-XSZ-SP", "石坪村党支部", K.BRANCH, "JC-XS-XSZ"),
    ("JC-XS-YH", "云湖街道党工委", K.WORKING_COMMITTEE, "JC-XS"),
    ("JC-XS-YH-NY", "南苑社区党支部", K.BRANCH, "JC-XS-YH"),
    ("JC-XS-YH-BY", "北苑社区党支部", K.BRANCH, "JC-XS-YH"),
    ("JC-GZ", "市国资委党委", K.PARTY_COMMITTEE, "JC"),
    ("JC-GZ-CT", "江城城投集团党委", K.PARTY_COMMITTEE, "JC-GZ"),
    ("JC-GZ-CT-1", "城投集团机关党支部", K.BRANCH, "JC-GZ-CT"),
    ("JC-GZ-CT-2", "城投集团工程公司党支部", K.BRANCH, "JC-GZ-CT"),
]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    real_name: str
    role: object  # a lazy translation
    organization_code: str | None
    role_kind: str | None


# A user for every role the platform knows so far.
LOGINS = [
    DemoLogin(
        "city_admin",
        "周建国",
        _("City administrator (organisation department)"),
        "JC",
        RoleKind.ADMIN,
    ),
    DemoLogin(
        "district_secretary",
        "林海燕",
        _("Party committee secretary (Donghu district)"),
        "JC-DH",
        RoleKind.SECRETARY,
    ),
    DemoLogin(
        "branch_secretary",
        "陈志强",
        _("Branch secretary (Guiyuan community)"),
        "JC-DH-DHJD-GY",
        RoleKind.SECRETARY,
    ),
    DemoLogin(
        "other_branch_secretary",
        "刘思远",
        _("Branch secretary (Taoxi village)"),
        "JC-XS-XSZ-TQ",
        RoleKind.SECRETARY,
    ),
    DemoLogin(
        "inspector",
        "郑晓东",
        _("Inspector, read only (Donghu district)"),
        "JC-DH",
        RoleKind.INSPECTOR,
    ),
    DemoLogin("volunteer", "王秀英", _("Party-member volunteer (Guiyuan community)"), None, None),
    DemoLogin("citizen", "赵子涵", _("Citizen volunteer (no party membership)"), None, None),
]


def _prepared_user(**fields) -> User:
    user = User(**fields)
    user.id_number_hash = crypto.blind_index(user.id_number) if user.id_number else None
    return user


@transaction.atomic
def seed_organizations_and_people(*, members: int = 200) -> dict:
    rng = random.Random(2026)
    created = {"organizations": 0, "users": 0, "memberships": 0, "roles": 0}

    organizations: dict[str, PartyOrganization] = {
        org.code: org for org in PartyOrganization.objects.filter(code__in=[c for c, *_ in TREE])
    }
    for code, name, kind, parent_code in TREE:
        if code in organizations:
            continue
        organization = PartyOrganization(
            code=code, name=name, kind=kind, parent=organizations.get(parent_code)
        )
        organization.save()
        organizations[code] = organization
        created["organizations"] += 1
    branches = [organizations[code] for code, _n, kind, _p in TREE if kind == K.BRANCH]

    password = make_password(DEMO_PASSWORD)
    existing = set(
        User.objects.filter(username__startswith="member").values_list("username", flat=True)
    )
    new_users = []
    plan = []
    for index in range(members):
        female = rng.random() < 0.5
        username = f"member{index + 1:03d}"
        fields = {
            "username": username,
            "real_name": demo_name(rng),
            "phone": demo_phone(index + 1),
            "id_number": demo_id_number(rng, female=female),
            "gender": Gender.FEMALE if female else Gender.MALE,
            "ethnicity": Ethnicity.HAN if rng.random() < 0.9 else rng.choice(Ethnicity.values),
            "political_status": PoliticalStatus.PARTY_MEMBER
            if rng.random() < 0.9
            else PoliticalStatus.PROBATIONARY_MEMBER,
            "password": password,
        }
        branch = branches[index % len(branches)]
        employment = rng.choices(
            [EmploymentStatus.EMPLOYED, EmploymentStatus.RETIRED, EmploymentStatus.MOBILE],
            weights=[6, 3, 1],
        )[0]
        plan.append((username, branch, fields["political_status"], employment))
        if username not in existing:
            new_users.append(_prepared_user(**fields))
    User.objects.bulk_create(new_users)
    created["users"] += len(new_users)

    users = {u.username: u for u in User.objects.filter(username__in=[p[0] for p in plan])}
    with_membership = set(
        Membership.objects.active()
        .filter(user__in=users.values())
        .values_list("user__username", flat=True)
    )
    memberships = [
        Membership(
            user=users[username],
            organization=branch,
            category=MembershipCategory.PROBATIONARY
            if status == PoliticalStatus.PROBATIONARY_MEMBER
            else MembershipCategory.FULL,
            employment=employment,
        )
        for username, branch, status, employment in plan
        if username not in with_membership
    ]
    Membership.objects.bulk_create(memberships)
    scope_changed()  # bulk_create sends no signals
    created["memberships"] += len(memberships)

    for index, login in enumerate(LOGINS):
        user = User.objects.filter(username=login.username).first()
        if user is None:
            female = login.real_name in {"林海燕", "王秀英"}
            user = _prepared_user(
                username=login.username,
                real_name=login.real_name,
                phone=demo_phone(9000 + index),
                id_number=demo_id_number(rng, female=female),
                gender=Gender.FEMALE if female else Gender.MALE,
                ethnicity=Ethnicity.HAN,
                political_status=PoliticalStatus.MASSES
                if login.username == "citizen"
                else PoliticalStatus.PARTY_MEMBER,
                password=password,
            )
            user.save()
            created["users"] += 1
        if login.role_kind:
            _role, made = OrganizationRole.objects.get_or_create(
                user=user,
                organization=organizations[login.organization_code],
                kind=login.role_kind,
                ended_on=None,
            )
            created["roles"] += int(made)
        if login.username != "citizen":
            home = organizations[login.organization_code or "JC-DH-DHJD-GY"]
            if login.username == "city_admin":
                home = organizations["JC-JG-MZ"]
            elif home.kind != K.BRANCH:
                # A committee's people belong to a branch inside their own committee.
                home = next(b for b in branches if b.path.startswith(home.path))
            _m, made = Membership.objects.get_or_create(
                user=user,
                ended_on=None,
                defaults={"organization": home, "category": MembershipCategory.FULL},
            )
            created["memberships"] += int(made)
    return created
