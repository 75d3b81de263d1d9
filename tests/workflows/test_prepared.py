"""A read compiled once (documents.prepared) answers as its queryset would, for every call's
values: a step that read another application's task or the wrong member would act on it."""

from contextlib import nullcontext
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from documents.prepared import Prepared
from tests.factories import CallFactory, UserFactory, institution_for
from workflows.models import Call, Institution
from workflows.selectors import member_of

pytestmark = pytest.mark.django_db

BY_REGION = Prepared(
    Institution,
    lambda region, pks: Institution.objects.filter(region_code=region, pk__in=pks).order_by("pk"),
)
NAMES = Prepared(
    Institution, lambda pk: Institution.objects.filter(pk=pk).values("name", "region_code")
)


def test_each_call_gets_the_rows_of_its_own_values():
    owner = UserFactory()
    guiyang = [institution_for(owner) for _ in range(3)]
    zunyi = institution_for(owner, region_code="520300")
    everyone = [*guiyang, zunyi]

    assert BY_REGION(region="520100", pks=[i.pk for i in everyone]) == guiyang
    assert BY_REGION(region="520300", pks=[i.pk for i in everyone]) == [zunyi]
    # A list of another length compiles its own SQL; the first is still right afterwards.
    assert BY_REGION(region="520100", pks=[guiyang[1].pk]) == [guiyang[1]]
    assert BY_REGION(region="520100", pks=[i.pk for i in everyone]) == guiyang
    assert BY_REGION(region="520100", pks=[]) == []
    assert NAMES(pk=zunyi.pk) == [{"name": zunyi.name, "region_code": "520300"}]


def test_a_kept_read_is_one_statement_and_its_rows_are_whole_objects():
    institution = institution_for(UserFactory())
    BY_REGION(region="520100", pks=[institution.pk])
    with CaptureQueriesContext(connection) as captured:
        (found,) = BY_REGION(region="520100", pks=[institution.pk])
    assert len(captured) == 1
    assert found.name == institution.name and found.uscc == institution.uscc
    found.name = "改名后的单位"
    found.save(update_fields=["name"])  # a row read so is saved as any other
    assert Institution.objects.get(pk=institution.pk).name == "改名后的单位"


OPEN_AT = Prepared(
    Call, lambda now: Call.objects.filter(opens_at__lte=now, closes_at__gt=now).order_by("pk")
)


def test_a_datetime_value_is_compared_as_the_database_keeps_it():
    """A moment is carried as the database takes it (SQLite: text in UTC), so each call is
    answered for its own moment, in any time zone, to the microsecond."""
    start = timezone.now().replace(microsecond=500)
    first = CallFactory(opens_at=start, closes_at=start + timedelta(days=10))
    second = CallFactory(opens_at=start + timedelta(days=5), closes_at=start + timedelta(days=20))

    assert OPEN_AT(now=start - timedelta(microseconds=1)) == []
    assert OPEN_AT(now=start) == [first]
    assert OPEN_AT(now=(start + timedelta(days=6)).astimezone(ZoneInfo("Asia/Shanghai"))) == [
        first,
        second,
    ]
    assert OPEN_AT(now=start + timedelta(days=10)) == [second]
    with pytest.raises(TypeError):
        OPEN_AT(now=datetime(2026, 12, 5, 12, 0))  # naive: which moment is it?


def test_values_it_cannot_keep_are_refused():
    with pytest.raises(TypeError):
        NAMES(pk=None)
    with pytest.raises(TypeError):
        BY_REGION(region="520100", pks=[1, "2"])


def test_membership_is_answered_for_the_user_and_the_institution_asked_about():
    member, stranger = UserFactory(), UserFactory()
    own, other = institution_for(member), institution_for(stranger)

    assert member_of(member, own)
    assert not member_of(member, other)
    assert not member_of(stranger, own)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL prepares statements")
def test_postgresql_prepares_a_kept_statement_once_and_it_is_counted_with_its_values():
    institution = institution_for(UserFactory(), region_code="520300")
    with CaptureQueriesContext(connection) as captured:
        for _ in range(3):
            assert NAMES(pk=institution.pk) == [{"name": institution.name, "region_code": "520300"}]
    assert len(captured) == 3
    assert all(str(institution.pk) in query["sql"] for query in captured)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ['%"workflows_institution"."name"%'],
        )
        (prepared,) = cursor.fetchone()
    assert prepared == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="rows are locked on PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_a_kept_lock_refused_is_djangos_database_error():
    """viewflow's lock tries again on django.db.DatabaseError: a kept statement refused by the
    database must raise that (not the driver's own class)."""
    import psycopg
    from django.db import DatabaseError, transaction

    institution = institution_for(UserFactory())
    locked = Prepared(
        Institution,
        lambda pk: Institution.objects.filter(pk=pk).select_for_update(nowait=True).values("pk"),
    )
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        dbname=settings["NAME"],
    ) as other:
        other.execute(
            "SELECT 1 FROM workflows_institution WHERE id = %s FOR UPDATE", [institution.pk]
        )
        for logged in (False, True):  # as a step runs, and as a test counting statements
            with CaptureQueriesContext(connection) if logged else nullcontext():
                with pytest.raises(DatabaseError), transaction.atomic():
                    locked(pk=institution.pk)
    with transaction.atomic():
        assert locked(pk=institution.pk) == [{"pk": institution.pk}]
