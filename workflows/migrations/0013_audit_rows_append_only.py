"""On PostgreSQL, the database itself refuses UPDATE and DELETE of audit rows (the model refuses
them too, but a raw query or a database console would not go through the model). TRUNCATE,
which only whole-database maintenance and the test runner's flush use, is not affected."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION workflows_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit records are append-only: % refused on %', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS workflows_auditrecord_append_only ON workflows_auditrecord;
CREATE TRIGGER workflows_auditrecord_append_only
    BEFORE UPDATE OR DELETE ON workflows_auditrecord
    FOR EACH ROW EXECUTE FUNCTION workflows_audit_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS workflows_auditrecord_append_only ON workflows_auditrecord;
DROP FUNCTION IF EXISTS workflows_audit_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("workflows", "0012_notifications")]

    operations = [migrations.RunPython(forwards, backwards)]
