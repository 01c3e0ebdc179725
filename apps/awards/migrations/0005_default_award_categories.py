"""The two awards the programme names every year (both editable, more can be added)."""

from decimal import Decimal

from django.db import migrations

DEFAULTS = [
    {
        "name": "优秀共产党员志愿者",
        "kind": "volunteer",
        "description": "年度服务时长、服务质量和群众评价突出的党员志愿者。",
        "party_members_only": True,
        "min_hours": Decimal("20"),
        "min_average_rating": Decimal("4"),
        "max_rejected_records": 0,
        "order": 1,
    },
    {
        "name": "优秀共产党员志愿服务队",
        "kind": "team",
        "description": "年度服务成效显著、群众满意度高的党员志愿服务队。",
        "party_members_only": False,
        "min_hours": Decimal("200"),
        "min_average_rating": Decimal("4"),
        "max_rejected_records": None,
        "order": 2,
    },
]


def create(apps, schema_editor):
    AwardCategory = apps.get_model("awards", "AwardCategory")
    for values in DEFAULTS:
        AwardCategory.objects.get_or_create(
            name=values["name"],
            defaults={**values, "awarding_unit": "市委组织部", "publicity_days": 7},
        )


def remove(apps, schema_editor):
    AwardCategory = apps.get_model("awards", "AwardCategory")
    AwardCategory.objects.filter(name__in=[values["name"] for values in DEFAULTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("awards", "0004_awards")]
    operations = [migrations.RunPython(create, remove)]
