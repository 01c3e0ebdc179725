"""Demo teams, communities, staff, pairings, residence reports, posts, claims and pledges.

Runs after ``apps.organizations.demo.seed_organizations_and_people``. Idempotent like it: every
row is looked up by a stable key (username, organisation code, names) and only created when
missing. Deterministic: one ``random.Random`` with a fixed seed, drawn the same way whatever
already exists. Some teams and communities are left unpaired on purpose, and not every member
has reported, so the coverage board has gaps to show.
"""

import datetime
import random
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.choices import Ethnicity, Gender, PoliticalStatus
from apps.accounts.demo import demo_id_number, demo_phone
from apps.accounts.models import AvailableTime, User, VolunteerProfile, VolunteerStatus
from apps.core import crypto
from apps.organizations.demo import DEMO_PASSWORD
from apps.organizations.models import (
    EmploymentStatus,
    Membership,
    MembershipCategory,
    PartyOrganization,
)
from apps.teams.models import Team, TeamKind, TeamMembership, TeamMembershipStatus, TeamRole

from .models import (
    ClaimStatus,
    Community,
    CommunityKind,
    CommunityStaff,
    Pledge,
    Post,
    PostClaim,
    ResidenceReport,
    ResidenceReportStatus,
    TeamPairing,
)

# (organisation code, name, kind, district, street or town, address)
COMMUNITIES = [
    ("JC-DH-DHJD-GY", "桂园社区", "community", "东湖区", "东湖街道", "桂园路18号"),
    ("JC-DH-DHJD-HB", "湖滨社区", "community", "东湖区", "东湖街道", "湖滨路6号"),
    ("JC-DH-DHJD-CL", "翠柳社区", "community", "东湖区", "东湖街道", "翠柳街21号"),
    ("JC-DH-DHJD-FL", "枫林社区", "community", "东湖区", "东湖街道", "枫林路3号"),
    ("JC-DH-SL-QS", "青石社区", "community", "东湖区", "水岸街道", "青石巷9号"),
    ("JC-DH-SL-MY", "明月社区", "community", "东湖区", "水岸街道", "明月路88号"),
    ("JC-XS-XSZ-TQ", "桃溪村", "village", "西山区", "西山镇", "桃溪村村委会"),
    ("JC-XS-XSZ-LH", "柳河村", "village", "西山区", "西山镇", "柳河村村委会"),
    ("JC-XS-XSZ-SP", "石坪村", "village", "西山区", "西山镇", "石坪村村委会"),
    ("JC-XS-YH-NY", "南苑社区", "community", "西山区", "云湖街道", "南苑路12号"),
    ("JC-XS-YH-BY", "北苑社区", "community", "西山区", "云湖街道", "北苑路5号"),
]
# Each community's staff login: (username, real name), in the order of COMMUNITIES.
COMMUNITY_STAFF = [
    ("community_staff", "吴静"),
    ("staff_hb", "孙丽"),
    ("staff_cl", "马超"),
    ("staff_fl", "朱红"),
    ("staff_qs", "胡平"),
    ("staff_my", "郭燕"),
    ("staff_tq", "何刚"),
    ("staff_lh", "高兰"),
    ("staff_sp", "罗勇"),
    ("staff_ny", "梁娟"),
    ("staff_by", "谢涛"),
]

# (owning organisation code, name, kind, brand, paired community or None: a gap on purpose)
TEAMS = [
    ("JC-DH-DHJD-GY", "桂园红心志愿服务队", TeamKind.GENERAL, "红心桂园", "桂园社区"),
    ("JC-DH-DHJD-HB", "湖滨先锋志愿服务队", TeamKind.GENERAL, "", "湖滨社区"),
    ("JC-DH-DHJD-CL", "翠柳邻里守望队", TeamKind.GENERAL, "邻里守望", "翠柳社区"),
    ("JC-DH-DHJD-FL", "枫林助老服务队", TeamKind.GENERAL, "", None),
    ("JC-DH-SL-QS", "青石平安巡逻队", TeamKind.EMERGENCY, "", "青石社区"),
    ("JC-XS-XSZ-TQ", "桃溪先锋志愿服务队", TeamKind.GENERAL, "", "桃溪村"),
    ("JC-XS-XSZ-LH", "柳河乡村振兴服务队", TeamKind.PLANNING, "", None),
    ("JC-XS-YH-NY", "南苑关爱儿童服务队", TeamKind.EDUCATION, "四点半课堂", "南苑社区"),
    ("JC-JG-WJ", "卫健委医疗志愿服务队", TeamKind.MEDICAL, "健康进社区", "明月社区"),
    ("JC-JG-JY-1", "教育局四点半课堂服务队", TeamKind.EDUCATION, "", "湖滨社区"),
    ("JC-JG-MZ", "民政局法律援助服务队", TeamKind.LEGAL, "法润万家", "石坪村"),
    ("JC-GZ-CT-2", "城投工程规划服务队", TeamKind.PLANNING, "", None),
]

POSTS = ["楼栋长", "文明劝导员", "政策宣传员", "矛盾调解员", "助老陪伴员"]
PLEDGES = [
    ("每月到社区参加一次志愿服务", "全年不少于12次"),
    ("结对帮扶一户困难家庭", "每季度走访一次"),
    ("担任楼栋长，收集居民诉求", "每月反映诉求并跟踪办结"),
    ("参与社区文明创建", "全年参加文明劝导不少于6次"),
]
#: The day the demo's pairings began: 学雷锋日.
PAIRED_SINCE = datetime.date(2025, 3, 5)
REPORTED_SHARE, PENDING_SHARE, CLAIM_SHARE, PLEDGE_SHARE, PROFILE_SHARE = 0.6, 0.1, 0.5, 0.6, 0.85


@dataclass(frozen=True)
class DemoLogin:
    username: str
    real_name: str
    role: object  # a lazy translation


LOGINS = [
    DemoLogin("team_leader", "李明", _("Team leader (Guiyuan red-heart team)")),
    DemoLogin("community_staff", "吴静", _("Community staff (Guiyuan community)")),
]


def _user(rng, *, username, real_name, phone_index, password, party_member):
    """The user named ``username``, created when missing (the draws happen either way)."""
    female = rng.random() < 0.5
    id_number = demo_id_number(rng, female=female)
    user = User.objects.filter(username=username).first()
    if user is not None:
        return user, False
    user = User(
        username=username,
        real_name=real_name,
        phone=demo_phone(phone_index),
        id_number=id_number,
        gender=Gender.FEMALE if female else Gender.MALE,
        ethnicity=Ethnicity.HAN,
        political_status=PoliticalStatus.PARTY_MEMBER if party_member else PoliticalStatus.MASSES,
        password=password,
    )
    user.id_number_hash = crypto.blind_index(id_number)
    user.save()
    return user, True


@transaction.atomic
def seed_communities_and_teams(*, today: datetime.date | None = None) -> dict:
    today = today or timezone.localdate()
    rng = random.Random(3050)
    created = dict.fromkeys(
        [
            "communities",
            "staff",
            "teams",
            "team_memberships",
            "pairings",
            "profiles",
            "reports",
            "posts",
            "claims",
            "pledges",
            "users",
        ],
        0,
    )
    password = make_password(DEMO_PASSWORD)
    organizations = {
        o.code: o
        for o in PartyOrganization.objects.filter(
            code__in={c[0] for c in COMMUNITIES} | {t[0] for t in TEAMS}
        )
    }

    # Communities and their staff ------------------------------------------------------------
    communities: dict[str, Community] = {}
    staffed = zip(COMMUNITIES, COMMUNITY_STAFF, strict=True)
    for index, (row, (username, staff_name)) in enumerate(staffed):
        code, name, kind, district, street, address = row
        community, made = Community.objects.get_or_create(
            district=district,
            street=street,
            name=name,
            defaults={
                "kind": CommunityKind(kind),
                "address": address,
                "contact_name": staff_name,
                "contact_phone": demo_phone(9100 + index),
                "organization": organizations.get(code),
            },
        )
        communities[name] = community
        created["communities"] += int(made)
        staff, made = _user(
            rng,
            username=username,
            real_name=staff_name,
            phone_index=9100 + index,
            password=password,
            party_member=False,
        )
        created["users"] += int(made)
        _s, made = CommunityStaff.objects.get_or_create(
            user=staff, community=community, ended_on=None
        )
        created["staff"] += int(made)

    # The team leader login: a member of the Guiyuan branch -----------------------------------
    leader, made = _user(
        rng,
        username="team_leader",
        real_name="李明",
        phone_index=9200,
        password=password,
        party_member=True,
    )
    created["users"] += int(made)
    Membership.objects.get_or_create(
        user=leader,
        ended_on=None,
        defaults={
            "organization": organizations["JC-DH-DHJD-GY"],
            "category": MembershipCategory.FULL,
            "employment": EmploymentStatus.EMPLOYED,
        },
    )

    # Members, by branch ----------------------------------------------------------------------
    members = list(
        Membership.objects.active()
        .filter(user__username__startswith="member")
        .select_related("user", "organization")
        .order_by("user__username")
    )
    by_branch: dict[int, list[User]] = {}
    for membership in members:
        by_branch.setdefault(membership.organization_id, []).append(membership.user)

    # Teams, leaders and members ----------------------------------------------------------------
    open_memberships = set(
        TeamMembership.objects.filter(
            status__in=[TeamMembershipStatus.ACTIVE, TeamMembershipStatus.APPLIED]
        ).values_list("team_id", "user_id")
    )
    led = set(
        TeamMembership.objects.filter(
            role=TeamRole.LEADER, status=TeamMembershipStatus.ACTIVE
        ).values_list("team_id", flat=True)
    )
    team_memberships = []
    for code, name, kind, brand, paired_with in TEAMS:
        organization = organizations[code]
        team, made = Team.objects.get_or_create(
            organization=organization,
            name=name,
            defaults={"kind": kind, "brand_name": brand, "founded_on": PAIRED_SINCE},
        )
        created["teams"] += int(made)
        candidates = by_branch.get(organization.pk, [])
        picked = rng.sample(candidates, k=min(len(candidates), 6))
        if name == "桂园红心志愿服务队":
            picked = [leader, *picked]
        for position, person in enumerate(picked):
            role = TeamRole.LEADER if position == 0 else TeamRole.MEMBER
            if (team.pk, person.pk) in open_memberships or (
                role == TeamRole.LEADER and team.pk in led
            ):
                continue
            open_memberships.add((team.pk, person.pk))
            if role == TeamRole.LEADER:
                led.add(team.pk)
            team_memberships.append(
                TeamMembership(
                    team=team,
                    user=person,
                    role=role,
                    status=TeamMembershipStatus.ACTIVE,
                    joined_on=PAIRED_SINCE,
                )
            )
        if paired_with:
            _p, made = TeamPairing.objects.get_or_create(
                team=team,
                community=communities[paired_with],
                ended_on=None,
                defaults={
                    "started_on": PAIRED_SINCE,
                    "agreement_note": f"{name}与{paired_with}结对共建",
                },
            )
            created["pairings"] += int(made)
    TeamMembership.objects.bulk_create(team_memberships)
    created["team_memberships"] += len(team_memberships)

    # Posts ---------------------------------------------------------------------------------
    posts: dict[int, list[Post]] = {}
    for community in list(communities.values())[:6]:
        for title in POSTS[:3]:
            post, made = Post.objects.get_or_create(
                community=community,
                title=title,
                defaults={"slots": 8, "starts_on": PAIRED_SINCE, "description": f"{title}岗位"},
            )
            created["posts"] += int(made)
            posts.setdefault(community.pk, []).append(post)

    # Volunteer profiles, residence reports, claims and pledges -------------------------------
    community_of_branch = {c.organization_id: c for c in communities.values() if c.organization_id}
    all_communities = list(communities.values())
    with_profile = set(VolunteerProfile.objects.values_list("user_id", flat=True))
    with_report = set(ResidenceReport.objects.values_list("user_id", flat=True))
    with_claim = set(PostClaim.objects.values_list("user_id", flat=True))
    with_pledge = set(Pledge.objects.filter(year=today.year).values_list("user_id", flat=True))
    approved = PostClaim.objects.filter(status=ClaimStatus.APPROVED).order_by()
    taken = dict(approved.values("post_id").annotate(n=Count("pk")).values_list("post_id", "n"))
    consent_at = timezone.make_aware(datetime.datetime.combine(PAIRED_SINCE, datetime.time(9)))
    profiles, reports, claims, pledges = [], [], [], []
    extra = list(User.objects.filter(username__in=["volunteer", "team_leader", "citizen"]))
    people = [(m.user, m.organization_id, m.employment) for m in members] + [
        (u, None, EmploymentStatus.EMPLOYED) for u in sorted(extra, key=lambda u: u.username)
    ]
    extra_numbers = {"volunteer": 90001, "team_leader": 90002, "citizen": 90003}
    for person, branch_id, employment in people:
        # Every draw happens for every person, whatever exists already: a second run then
        # makes the same decisions as the first, and finds everything in place.
        home = (
            community_of_branch.get(branch_id)
            or all_communities[rng.randrange(len(all_communities))]
        )
        wants_profile = rng.random() < PROFILE_SHARE
        skills = rng.choice(["", "急救", "法律咨询", "书法", "维修家电"])
        available = rng.choice(AvailableTime.values)
        report_draw, claim_draw, pledge_draw = rng.random(), rng.random(), rng.random()
        content, target = rng.choice(PLEDGES)
        address = f"{home.address}{rng.randint(1, 30)}栋{rng.randint(1, 6)}01室"

        number = person.username.removeprefix("member")
        index = int(number) if number.isdigit() else extra_numbers[person.username]
        if wants_profile and person.pk not in with_profile and person.birth_date:
            profiles.append(
                VolunteerProfile(
                    user=person,
                    volunteer_number=f"V{index:06d}",
                    status=VolunteerStatus.ACTIVE,
                    birth_date=person.birth_date,
                    residence_area=f"{home.district}{home.street}",
                    residence_community=home,
                    skills=skills,
                    available_times=[available],
                    consent_at=consent_at,
                    reviewed_at=consent_at,
                )
            )
        in_service = branch_id is not None and employment == EmploymentStatus.EMPLOYED
        if not in_service or report_draw >= REPORTED_SHARE + PENDING_SHARE:
            continue
        confirmed = report_draw < REPORTED_SHARE
        if person.pk not in with_report:
            reports.append(
                ResidenceReport(
                    number=f"BDDEMO{index:06d}",
                    user=person,
                    community=home,
                    home_address=address,
                    status=ResidenceReportStatus.CONFIRMED
                    if confirmed
                    else ResidenceReportStatus.PENDING,
                    reviewed_at=consent_at if confirmed else None,
                )
            )
        if not confirmed:
            continue
        open_posts = [p for p in posts.get(home.pk, []) if taken.get(p.pk, 0) < p.slots]
        if claim_draw < CLAIM_SHARE and open_posts and person.pk not in with_claim:
            post = open_posts[0]
            taken[post.pk] = taken.get(post.pk, 0) + 1
            claims.append(PostClaim(post=post, user=person, status=ClaimStatus.APPROVED))
        if pledge_draw < PLEDGE_SHARE and person.pk not in with_pledge:
            pledges.append(
                Pledge(user=person, community=home, year=today.year, content=content, target=target)
            )
    for model, rows, key in (
        (VolunteerProfile, profiles, "profiles"),
        (ResidenceReport, reports, "reports"),
        (PostClaim, claims, "claims"),
        (Pledge, pledges, "pledges"),
    ):
        model.objects.bulk_create(rows)
        created[key] += len(rows)
    return created
