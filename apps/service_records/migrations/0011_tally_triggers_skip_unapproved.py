"""The record tally functions return at once when no approved record is among the rows a
statement wrote (a submit, an edit while waiting for review): ``tallies._pg_tally_function``."""

from django.db import migrations


def replace_functions(apps, schema_editor):
    from apps.service_records.tallies import install_record_tally_triggers

    connection = schema_editor.connection
    if connection.vendor == "postgresql":  # SQLite puts its own back after migrating
        install_record_tally_triggers(connection=connection, replace=True)


class Migration(migrations.Migration):
    dependencies = [("service_records", "0010_record_volunteer_day_covers_totals")]

    # Backwards the functions stay as they are: they count the same either way.
    operations = [migrations.RunPython(replace_functions, migrations.RunPython.noop)]
