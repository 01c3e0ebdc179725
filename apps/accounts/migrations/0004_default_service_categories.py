from django.db import migrations

# The service categories most cities start with; city staff maintain the list in the admin.
DEFAULTS = [
    ("elderly", "助老"),
    ("disability", "助残"),
    ("children", "关爱儿童"),
    ("legal", "法律服务"),
    ("medical", "医疗健康"),
    ("psychological", "心理疏导"),
    ("environment", "环境保护"),
    ("culture", "文化宣传"),
    ("security", "治安巡逻"),
    ("poverty", "帮困扶贫"),
    ("planning", "规划建设"),
    ("emergency", "应急救援"),
    ("civility", "文明实践"),
]


def create(apps, schema_editor):
    ServiceCategory = apps.get_model("accounts", "ServiceCategory")
    for order, (code, name) in enumerate(DEFAULTS):
        ServiceCategory.objects.get_or_create(
            code=code, defaults={"name": name, "sort_order": order}
        )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_volunteerprofile_residence_community_and_more")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
