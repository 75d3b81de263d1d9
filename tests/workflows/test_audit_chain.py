"""The audit trail is a hash chain (等保 2.0): every record carries the hash of the one before,
the database links it at the INSERT (no extra query), concurrent writers cannot fork it, and
`manage.py audit_verify` names the first record altered or removed behind the system's back."""

import threading
from contextlib import contextmanager
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from tests.concurrency import POSTGRES_ONLY
from tests.workflows.test_inbox import submitted
from workflows import audit_chain
from workflows.models import AuditRecord
from workflows.services.audit import audit_record, audit_write, audit_write_many


def audit_verify(*args: str) -> tuple[int, str, str]:
    """Run `manage.py audit_verify`: (exit status, stdout, stderr)."""
    out, err = StringIO(), StringIO()
    try:
        call_command("audit_verify", *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return exit_.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


@contextmanager
def append_only_lifted():
    """What someone with the database's owner rights could do: lift PostgreSQL's append-only
    trigger (the test's own transaction; restored after). SQLite has no such trigger."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no foreign-key check left pending
        cursor.execute(
            "ALTER TABLE workflows_auditrecord DISABLE TRIGGER workflows_auditrecord_append_only"
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "ALTER TABLE workflows_auditrecord ENABLE TRIGGER workflows_auditrecord_append_only"
            )


def raw(sql: str, params) -> None:
    with append_only_lifted(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def trail(applicant, institution, call, formal_reviewer) -> list[AuditRecord]:
    """A real trail: an application submitted and its attachments recorded, then a few
    records with reasons and data of every JSON kind."""
    application = submitted(applicant, institution, call)
    for n in range(3):
        audit_write(
            actor=formal_reviewer,
            action="note",
            application=application,
            reason=f"第{n}条：理由",
            data={"amount": Decimal("1500000.00"), "n": n, "ratio": 0.25, "big": 1e16},
        )
    return list(AuditRecord.objects.order_by("pk"))


def test_each_record_carries_the_hash_of_the_one_before(
    applicant, institution, call, formal_reviewer
):
    records = trail(applicant, institution, call, formal_reviewer)

    assert len(records) >= 5
    assert records[0].prev_hash == audit_chain.GENESIS
    for before, record in zip(records, records[1:], strict=False):
        assert record.prev_hash == before.hash
        assert record.hash == audit_chain.link_hash(record.prev_hash, record.content_hash)
    assert len({record.hash for record in records}) == len(records)


def test_an_untouched_chain_verifies(applicant, institution, call, formal_reviewer):
    records = trail(applicant, institution, call, formal_reviewer)

    status, out, err = audit_verify()

    assert status == 0, err
    assert f"共{len(records)}条记录" in out
    assert records[-1].hash in out


def test_records_cut_from_the_end_are_found_against_the_head_noted_before(
    applicant, institution, call, formal_reviewer
):
    """A shorter chain is still a valid chain: only the head hash noted by an earlier run shows
    that its last records were deleted."""
    records = trail(applicant, institution, call, formal_reviewer)
    _, out, _ = audit_verify()
    noted = records[-1].hash
    assert noted in out
    audit_write(actor=formal_reviewer, action="note", application=records[-1].application)

    status, out, err = audit_verify("--head", noted)
    assert status == 0, err
    assert f"记录 #{records[-1].pk}" in out and "其后新增1条记录" in out

    raw(
        "DELETE FROM workflows_auditrecord WHERE id >= %s",
        [records[-2].pk],
    )
    status, out, err = audit_verify()
    assert status == 0  # what is left is a whole chain
    status, out, err = audit_verify("--head", noted)
    assert status == 1
    assert "尾部被截断" in err and noted in err


def test_a_reason_altered_in_the_database_is_named(applicant, institution, call, formal_reviewer):
    records = trail(applicant, institution, call, formal_reviewer)
    target = records[-2]

    raw("UPDATE workflows_auditrecord SET reason = %s WHERE id = %s", ["已改", target.pk])

    status, out, err = audit_verify()
    assert status == 1
    assert f"#{target.pk}（" in err
    assert "note" in err and "内容被改动" in err
    assert "审计链完整" not in out


def test_a_record_rehashed_after_altering_breaks_the_link_to_the_next(
    applicant, institution, call, formal_reviewer
):
    """Recomputing the altered record's own hashes does not help: its successor still points
    at the old hash."""
    records = trail(applicant, institution, call, formal_reviewer)
    target = records[1]
    fields = {f: getattr(target, f) for f in audit_chain.FIELDS[1:10] if f != "reason"}
    content = audit_chain.content_hash(reason="改过", **fields)
    link = audit_chain.link_hash(target.prev_hash, content)

    raw(
        "UPDATE workflows_auditrecord SET reason = %s, content_hash = %s, hash = %s WHERE id = %s",
        ["改过", content, link, target.pk],
    )

    status, _, err = audit_verify()
    assert status == 1
    assert f"#{records[2].pk}（" in err and "链接断开" in err


def test_a_deleted_middle_record_is_reported_as_a_broken_link(
    applicant, institution, call, formal_reviewer
):
    records = trail(applicant, institution, call, formal_reviewer)
    middle = records[len(records) // 2]

    raw("DELETE FROM workflows_auditrecord WHERE id = %s", [middle.pk])

    status, _, err = audit_verify()
    follower = records[len(records) // 2 + 1]
    assert status == 1
    assert f"#{follower.pk}（" in err
    assert "链接断开" in err and "缺失" in err


def test_writing_a_record_costs_one_query_and_no_savepoint(applicant, institution, call):
    application = submitted(applicant, institution, call)
    application.call  # noqa: B018 - cached, as in every service that writes the trail

    with CaptureQueriesContext(connection) as queries:
        audit_write(actor=applicant, action="note", application=application, reason="x")

    sql = [q["sql"] for q in queries.captured_queries]
    assert len(sql) == 1, sql
    assert sql[0].startswith("INSERT INTO")


def test_records_written_in_one_insert_are_chained_in_their_order_and_verify(
    applicant, institution, call, formal_reviewer
):
    """A batch writes a chunk's records in one INSERT (audit_write_many): the trigger links
    them row by row, in the order given, after the records before them."""
    trail(applicant, institution, call, formal_reviewer)
    application = AuditRecord.objects.exclude(application=None).latest("pk").application
    before = AuditRecord.objects.latest("pk")
    records = [
        audit_record(
            actor=formal_reviewer,
            action="note",
            application=application,
            reason=f"第{n}条",
            data={"amount": Decimal("100.50"), "n": n},
        )
        for n in range(4)
    ]

    with CaptureQueriesContext(connection) as queries:
        audit_write_many(records)

    assert len(queries.captured_queries) == 1
    written = list(AuditRecord.objects.filter(pk__gt=before.pk).order_by("pk"))
    assert [r.reason for r in written] == ["第0条", "第1条", "第2条", "第3条"]
    assert written[0].prev_hash == before.hash
    for earlier, record in zip([before, *written], written, strict=False):
        assert record.prev_hash == earlier.hash
        assert record.hash == audit_chain.link_hash(record.prev_hash, record.content_hash)
    status, _out, err = audit_verify()
    assert status == 0, err


def test_the_chain_walk_reads_in_chunks(applicant, institution, call, formal_reviewer, monkeypatch):
    """Constant memory: a trail longer than a chunk is read a chunk at a time and verifies."""
    monkeypatch.setattr(audit_chain, "CHUNK", 2)
    records = trail(applicant, institution, call, formal_reviewer)

    walk = audit_chain.ChainWalk(AuditRecord.objects.all())
    with CaptureQueriesContext(connection) as queries:
        breaks = list(walk)

    assert breaks == []
    assert walk.count == len(records)
    assert len(queries.captured_queries) == -(-len(records) // 2) + 1


# --- PostgreSQL: the trigger and concurrent writers ---------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("sql", ["UPDATE workflows_auditrecord SET reason = 'x' WHERE id = %s"])
def test_postgresql_still_refuses_to_change_a_chained_record(
    sql, applicant, institution, call, formal_reviewer
):
    from django.db import DatabaseError

    if connection.vendor != "postgresql":
        pytest.skip("the append-only trigger exists on PostgreSQL only")
    records = trail(applicant, institution, call, formal_reviewer)

    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [records[0].pk])


@POSTGRES_ONLY[0]
@POSTGRES_ONLY[1]
@POSTGRES_ONLY[2]
def test_concurrent_writers_never_fork_the_chain(applicant, institution, call):
    """Eight connections write twenty records each, in transactions of two records that stay
    open a moment, all at once: one chain, no two records after the same one, in id order."""
    writers, rounds = 8, 10
    barrier = threading.Barrier(writers)
    errors = []

    def write(n):
        try:
            barrier.wait()
            for r in range(rounds):
                with transaction.atomic():
                    audit_write(actor=None, action="race", call=call, reason=f"{n}-{r}-a")
                    audit_write(actor=None, action="race", call=call, reason=f"{n}-{r}-b")
        except Exception as error:  # noqa: BLE001 - the test reports it
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    records = list(AuditRecord.objects.filter(action="race").order_by("pk"))
    assert len(records) == writers * rounds * 2
    every = list(AuditRecord.objects.order_by("pk"))
    assert len({r.prev_hash for r in every}) == len(every)  # no fork
    # Each transaction's two records are adjacent: ids follow the chain, writers took turns.
    for a, b in zip(records[::2], records[1::2], strict=True):
        assert a.reason.endswith("-a") and b.reason == a.reason[:-1] + "b"
        assert b.prev_hash == a.hash
    status, out, err = audit_verify()
    assert status == 0, err
    assert f"共{len(every)}条记录" in out


# --- the migration: existing records chained, existing ID numbers encrypted, and back ---------


@pytest.mark.django_db(transaction=True)
def test_the_migration_chains_existing_records_and_encrypts_existing_id_numbers(
    applicant, institution, call
):
    from django.core.files.base import ContentFile
    from django.db.migrations.executor import MigrationExecutor

    from workflows.models import Objection

    before = [("workflows", "0015_manage_accounts_permission")]
    after = [("workflows", "0016_audit_chain_and_personal_data")]
    application = submitted(applicant, institution, call)
    objection = Objection.objects.create(
        application=application,
        lodged_by=applicant,
        capacity=Objection.Capacity.PERSON,
        real_name="王晓梅",
        id_number="520102198506121237",
        phone="13987654321",
        statement="不实。",
        evidence=ContentFile(b"%PDF-1.4", name="evidence.pdf"),
    )

    def id_number_column():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id_number FROM workflows_objection WHERE id = %s", [objection.pk]
            )
            return cursor.fetchone()[0]

    executor = MigrationExecutor(connection)
    executor.migrate(before)  # reversed: the numbers are decrypted, the chain dropped
    assert id_number_column() == "520102198506121237"
    executor.loader.build_graph()
    old = executor.loader.project_state(before).apps.get_model("workflows", "AuditRecord")
    old.objects.create(action="before_the_chain", reason="旧记录", data={"x": 1})
    count = old.objects.count()

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert "1985" not in id_number_column()
    assert Objection.objects.get(pk=objection.pk).id_number == "520102198506121237"
    status, out, err = audit_verify()
    assert status == 0, err
    assert f"共{count}条记录" in out
    audit_write(actor=None, action="after_the_chain", call=call)  # the trigger links it
    status, out, err = audit_verify()
    assert status == 0, err
    assert f"共{count + 1}条记录" in out
