"""The audit trail's hash chain (等保 2.0: integrity of audit records).

Each audit record carries three hex SHA-256 values:

- `content_hash`: the SHA-256 of the record's own fields in a canonical form (`content_bytes`),
  computed in Python before the INSERT. The id is NOT part of it: on PostgreSQL the id is given
  by the chain trigger under its lock, after Python has hashed the record.
- `prev_hash`: the `hash` of the record before it in id order (`GENESIS` for the first one).
- `hash`: `sha256(prev_hash || content_hash)`, the two hex strings concatenated as ASCII.

The database links the chain, so writing a record costs the one INSERT it always cost: on
PostgreSQL a BEFORE INSERT trigger takes a transaction-level advisory lock (held until commit,
so chain writers are serialised and ids follow chain order), gives the row its id, reads the
latest hash and sets `prev_hash` and `hash` with PostgreSQL's `sha256()`; on SQLite (writers
are serialised by the database) an AFTER INSERT trigger does the same through
`audit_chain_link`, a Python function registered on every connection (`register_sqlite`). A
partial unique index on `prev_hash` makes a fork (two records after the same one) impossible.

`ChainWalk` walks the chain in id order in chunks (constant memory) and yields each place where
it does not hold; `manage.py audit_verify` reports the first."""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from django.core.serializers.json import DjangoJSONEncoder

GENESIS = "0" * 64
# pg_advisory_xact_lock's key for the chain writers (an arbitrary constant of this project).
ADVISORY_LOCK_KEY = 7_310_013
CONTENT_VERSION = 1
CHUNK = 2000


def data_normalise(data: dict | None) -> dict:
    """Audit data as the database gives it back: JSON types only (Decimal, dates and UUIDs
    become strings through Django's encoder, keys become strings)."""
    return json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder))


def _canonical_number(value):
    """A float as PostgreSQL's jsonb gives it back: an integral float (1e16) comes back as an
    int, exactly the decimal it was written as."""
    if isinstance(value, float) and value.is_integer():
        return int(Decimal(repr(value)))
    if isinstance(value, dict):
        return {key: _canonical_number(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_canonical_number(item) for item in value]
    return value


def timestamp_canonical(moment: datetime) -> str:
    """An aware time in UTC, ISO 8601 with microseconds (what both databases keep)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def content_bytes(
    *,
    application_id,
    call_id,
    actor_id,
    action: str,
    from_status: str,
    to_status: str,
    reason: str,
    data,
    created_at: datetime,
) -> bytes:
    """The canonical form of a record's own fields: JSON with sorted keys, no spaces, UTF-8."""
    content = {
        "v": CONTENT_VERSION,
        "application": application_id,
        "call": call_id,
        "actor": actor_id,
        "action": action,
        "from_status": from_status,
        "to_status": to_status,
        "reason": reason,
        "data": _canonical_number(data),
        "created_at": timestamp_canonical(created_at),
    }
    return json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def content_hash(**fields) -> str:
    return hashlib.sha256(content_bytes(**fields)).hexdigest()


def link_hash(prev_hash: str, content: str) -> str:
    """`sha256(prev_hash || content_hash)`; the SQLite trigger calls it, PostgreSQL's trigger
    computes the same with its own sha256()."""
    return hashlib.sha256(f"{prev_hash}{content}".encode("ascii")).hexdigest()


def register_sqlite(sender, connection, **kwargs) -> None:
    """`connection_created` receiver: the SQLite chain trigger's function on every connection."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("audit_chain_link", 2, link_hash, deterministic=True)


# --- the database's part -------------------------------------------------------------------------

POSTGRES_CREATE = f"""
CREATE OR REPLACE FUNCTION workflows_audit_chain() RETURNS trigger AS $$
DECLARE
    previous text;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'audit records are chained under READ COMMITTED only (not %)',
            current_setting('transaction_isolation');
    END IF;
    IF NEW.content_hash !~ '^[0-9a-f]{{64}}$' THEN
        RAISE EXCEPTION 'an audit record needs its content hash';
    END IF;
    -- Held until this transaction ends: the next writer waits and then sees this row.
    PERFORM pg_advisory_xact_lock({ADVISORY_LOCK_KEY});
    NEW.id := nextval(pg_get_serial_sequence(TG_TABLE_NAME, 'id'));
    SELECT hash INTO previous FROM workflows_auditrecord ORDER BY id DESC LIMIT 1;
    NEW.prev_hash := coalesce(previous, '{GENESIS}');
    NEW.hash := encode(sha256(convert_to(NEW.prev_hash || NEW.content_hash, 'UTF8')), 'hex');
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS workflows_auditrecord_chain ON workflows_auditrecord;
CREATE TRIGGER workflows_auditrecord_chain
    BEFORE INSERT ON workflows_auditrecord
    FOR EACH ROW EXECUTE FUNCTION workflows_audit_chain();
"""

POSTGRES_DROP = """
DROP TRIGGER IF EXISTS workflows_auditrecord_chain ON workflows_auditrecord;
DROP FUNCTION IF EXISTS workflows_audit_chain();
"""

SQLITE_CREATE = f"""
CREATE TRIGGER IF NOT EXISTS workflows_auditrecord_chain
AFTER INSERT ON workflows_auditrecord
BEGIN
    UPDATE workflows_auditrecord SET prev_hash = coalesce(
        (SELECT hash FROM workflows_auditrecord WHERE id < NEW.id ORDER BY id DESC LIMIT 1),
        '{GENESIS}'
    ) WHERE id = NEW.id;
    UPDATE workflows_auditrecord SET hash = audit_chain_link(prev_hash, content_hash)
    WHERE id = NEW.id;
END;
"""

SQLITE_DROP = "DROP TRIGGER IF EXISTS workflows_auditrecord_chain;"


# --- verification --------------------------------------------------------------------------------

# The record's own fields its content hash covers, in the order they are hashed.
CONTENT_FIELDS = (
    "application_id",
    "call_id",
    "actor_id",
    "action",
    "from_status",
    "to_status",
    "reason",
    "data",
    "created_at",
)
FIELDS = ("pk", *CONTENT_FIELDS, "content_hash", "prev_hash", "hash")


def record_content_hash(record) -> str:
    """The content hash of an AuditRecord (or of any object with its fields)."""
    return content_hash(**{name: getattr(record, name) for name in CONTENT_FIELDS})


@dataclass(frozen=True)
class Break:
    """Where the chain does not hold: the record, and what is wrong with it."""

    pk: int
    created_at: datetime
    action: str
    problem: str  # "content" | "missing" | "link" | "hash"


class ChainWalk:
    """Walks the chain of `queryset`'s records (all of them: the chain is global) in id order,
    reading `CHUNK` records at a time (constant memory). Iterating yields each break; `count`
    is how many records were read, `head` the last record's hash."""

    def __init__(self, queryset):
        self.queryset = queryset
        self.count = 0
        self.head = GENESIS

    def __iter__(self):
        expected_prev = GENESIS
        last = 0
        while True:
            rows = self.queryset.filter(pk__gt=last).order_by("pk").values_list(*FIELDS)
            rows = list(rows[:CHUNK])
            if not rows:
                return
            for row in rows:
                record = dict(zip(FIELDS, row, strict=True))
                last = record["pk"]
                self.count += 1
                problem = self._problem(record, expected_prev)
                if problem:
                    yield Break(last, record["created_at"], record["action"], problem)
                expected_prev = self.head = record["hash"]

    def _problem(self, record: dict, expected_prev: str) -> str | None:
        recomputed = content_hash(**{key: record[key] for key in CONTENT_FIELDS})
        if recomputed != record["content_hash"]:
            return "content"
        if record["prev_hash"] != expected_prev:
            # The record it follows is gone (deleted), or the chain was reordered.
            gone = not self.queryset.filter(hash=record["prev_hash"]).exists()
            return "missing" if gone else "link"
        if record["hash"] != link_hash(record["prev_hash"], record["content_hash"]):
            return "hash"
        return None
