"""The audit trail becomes a hash chain (workflows.audit_chain): the existing records are hashed
and linked in id order, then the database links every new one (a trigger on PostgreSQL and on
SQLite). Objectors' ID numbers are encrypted at rest (workflows.personal_data): the existing
plaintext values are encrypted here, and decrypted again when the migration is reversed."""

from django.db import migrations, models

import workflows.personal_data
from workflows import audit_chain, personal_data

APPEND_ONLY = "workflows_auditrecord_append_only"


def chain_existing(apps, schema_editor):
    AuditRecord = apps.get_model("workflows", "AuditRecord")
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:  # the append-only trigger of 0013 refuses UPDATE: lifted for this migration
        schema_editor.execute(f"ALTER TABLE workflows_auditrecord DISABLE TRIGGER {APPEND_ONLY}")
    previous = audit_chain.GENESIS
    last = 0
    while True:
        records = list(AuditRecord.objects.filter(pk__gt=last).order_by("pk")[:2000])
        if not records:
            break
        for record in records:
            data = audit_chain.data_normalise(record.data)
            content = audit_chain.content_hash(
                application_id=record.application_id,
                call_id=record.call_id,
                actor_id=record.actor_id,
                action=record.action,
                from_status=record.from_status,
                to_status=record.to_status,
                reason=record.reason,
                data=data,
                created_at=record.created_at,
            )
            link = audit_chain.link_hash(previous, content)
            AuditRecord.objects.filter(pk=record.pk).update(
                data=data, content_hash=content, prev_hash=previous, hash=link
            )
            previous, last = link, record.pk
    if postgres:
        schema_editor.execute(f"ALTER TABLE workflows_auditrecord ENABLE TRIGGER {APPEND_ONLY}")
        schema_editor.execute(audit_chain.POSTGRES_CREATE, params=None)
    else:
        schema_editor.execute(audit_chain.SQLITE_CREATE, params=None)


def unchain(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(audit_chain.POSTGRES_DROP, params=None)
    else:
        schema_editor.execute(audit_chain.SQLITE_DROP, params=None)


def _id_numbers_convert(apps, convert):
    Objection = apps.get_model("workflows", "Objection")
    for pk, value in Objection.objects.exclude(id_number="").values_list("pk", "id_number"):
        Objection.objects.filter(pk=pk).update(id_number=convert(value))


def id_numbers_encrypt(apps, schema_editor):
    _id_numbers_convert(apps, personal_data.encrypt)


def id_numbers_decrypt(apps, schema_editor):
    _id_numbers_convert(apps, personal_data.decrypt)


class Migration(migrations.Migration):
    dependencies = [("workflows", "0015_manage_accounts_permission")]

    operations = [
        migrations.AddField(
            model_name="auditrecord",
            name="content_hash",
            field=models.CharField(default="", editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="auditrecord",
            name="prev_hash",
            field=models.CharField(default="", editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="auditrecord",
            name="hash",
            field=models.CharField(default="", editable=False, max_length=64),
        ),
        migrations.RunPython(chain_existing, unchain),
        migrations.AddConstraint(
            model_name="auditrecord",
            constraint=models.UniqueConstraint(
                condition=models.Q(("prev_hash", ""), _negated=True),
                fields=("prev_hash",),
                name="audit_chain_no_fork",
            ),
        ),
        # Plain text wide enough for a token, encrypted in place, then read through the field.
        migrations.AlterField(
            model_name="objection",
            name="id_number",
            field=models.TextField(blank=True, verbose_name="身份证号码"),
        ),
        migrations.RunPython(id_numbers_encrypt, id_numbers_decrypt),
        migrations.AlterField(
            model_name="objection",
            name="id_number",
            field=workflows.personal_data.EncryptedTextField(
                blank=True, verbose_name="身份证号码"
            ),
        ),
    ]
