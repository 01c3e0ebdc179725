"""The ledger is append-only, and the database says so: triggers refuse UPDATE and DELETE."""

from django.db import migrations

MESSAGE = "points entries are append-only: post a reversing entry instead"

POSTGRES_UP = f"""
CREATE OR REPLACE FUNCTION points_entry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE} (% refused)', TG_OP USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER points_entry_append_only
    BEFORE UPDATE OR DELETE ON points_pointsentry
    FOR EACH ROW EXECUTE FUNCTION points_entry_append_only();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS points_entry_append_only ON points_pointsentry;
DROP FUNCTION IF EXISTS points_entry_append_only();
"""
SQLITE_UP = [
    f"""CREATE TRIGGER points_entry_no_{op.lower()} BEFORE {op} ON points_pointsentry
    BEGIN SELECT RAISE(ABORT, '{MESSAGE} ({op} refused)'); END;"""
    for op in ("UPDATE", "DELETE")
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS points_entry_no_update;",
    "DROP TRIGGER IF EXISTS points_entry_no_delete;",
]


def _run(schema_editor, statements):
    for statement in statements:
        schema_editor.execute(statement, params=None)


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, [POSTGRES_UP])
    elif vendor == "sqlite":
        _run(schema_editor, SQLITE_UP)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, [POSTGRES_DOWN])
    elif vendor == "sqlite":
        _run(schema_editor, SQLITE_DOWN)


class Migration(migrations.Migration):
    dependencies = [("points", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
