from django.db import migrations

# Categories most cities start with; city staff maintain the list in the admin. Community
# correction is not a category: it is a protected field only community and city staff see.
DEFAULTS = [
    ("elderly", "高龄"),
    ("empty_nest", "空巢"),
    ("living_alone", "独居"),
    ("disabled", "残疾"),
    ("intellectual_disability", "智障"),
    ("left_behind_child", "留守儿童"),
    ("lost_only_child", "失独家庭"),
    ("subsistence", "低保"),
]


def create(apps, schema_editor):
    CareCategory = apps.get_model("care", "CareCategory")
    for order, (code, name) in enumerate(DEFAULTS):
        CareCategory.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order})


class Migration(migrations.Migration):
    dependencies = [("care", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
