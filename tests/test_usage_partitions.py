"""Event storage built for volume: month partitions on PostgreSQL, no foreign-key triggers, deletes still cascade.

The partition tests run on PostgreSQL only (SQLite keeps plain tables); the rest on both.
"""

import datetime

import pytest
from django.db import connection

from accounts.models import Contact, Customer, UsageEvent
from lib import partitions
from metrics.models import CustomerDayFeature, UsageSession, UserDayActivity
from metrics.rollups import PARTITIONED
from metrics.tasks import usage_partitions_ensure
from importing.signals import announce
from tests.import_support import at, customer, run

pytestmark = pytest.mark.django_db

HEADER = "customer_external_id,user_external_id,event_type,occurred_at,session_id,event_id\n"
postgresql_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="SQLite keeps plain tables")
EVENTS = UsageEvent._meta.db_table


def rollup_rows(customer_id):
    return [
        model.objects.filter(customer_id=customer_id).count() for model in (UserDayActivity, CustomerDayFeature, UsageSession)
    ]


def where(event):
    """The partition a stored event sits in."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {EVENTS} WHERE id = %s", [event.pk])
        return cursor.fetchone()[0]


def test_deleting_a_customer_deletes_its_events_and_rollups(tmp_path):
    a, b = customer("A"), customer("B")
    result = run("usage_events", tmp_path, HEADER + "A,u1,login,2024-02-01T09:00:00Z,,\nB,u2,login,2024-02-01T09:00:00Z,,\n")
    assert result.created == 2
    announce(result)  # the rollups, as after a committed import
    assert rollup_rows(a.pk) == [1, 1, 1]

    a.delete()

    assert list(UsageEvent.objects.values_list("customer_id", flat=True)) == [b.pk]
    assert rollup_rows(a.pk) == [0, 0, 0]
    assert rollup_rows(b.pk) == [1, 1, 1]


def test_deleting_a_contact_deletes_its_events(tmp_path):
    customer("A")
    run("usage_events", tmp_path, HEADER + "A,u1,login,2024-02-01T09:00:00Z,,\nA,u2,login,2024-02-01T09:00:00Z,,\n")

    Contact.objects.get(external_id="u1").delete()

    assert list(UsageEvent.objects.values_list("contact__external_id", flat=True)) == ["u2"]


def test_an_event_id_sent_twice_with_two_instants_in_one_file_is_stored_once(tmp_path):
    customer("A")
    result = run(
        "usage_events",
        tmp_path,
        HEADER + "A,u1,login,2024-02-01T09:00:00Z,,m-1\nA,u1,login,2024-03-05T09:00:01Z,,m-1\n",  # another month too
    )
    assert (result.created, result.updated) == (1, 1)
    assert list(UsageEvent.objects.values_list("occurred_at", flat=True)) == [at("2024-02-01T09:00:00")]


def test_an_import_refers_to_existing_customers_and_contacts_only(tmp_path):
    """Without foreign-key constraints the import's own checks keep the references sound."""
    customer("A")
    result = run("usage_events", tmp_path, HEADER + "A,u1,login,2024-02-01T09:00:00Z,,\nZ,u1,login,2024-02-01T09:00:00Z,,\n", skip_errors=True)
    assert result.created == 1
    event = UsageEvent.objects.get()
    assert Customer.objects.filter(pk=event.customer_id).exists()
    assert Contact.objects.filter(pk=event.contact_id, customer_id=event.customer_id).exists()


@postgresql_only
def test_events_and_rollups_are_partitioned_by_month_on_postgresql():
    for model, _ in PARTITIONED:
        table = model._meta.db_table
        assert partitions.is_partitioned(table)
        assert f"{table}_default" in partitions.partitions(table)


@postgresql_only
def test_the_beat_task_creates_the_coming_months_once():
    created = usage_partitions_ensure("2031-05-10")

    for model, _ in PARTITIONED:
        table = model._meta.db_table
        assert {f"{table}_p2031_04", f"{table}_p2031_05", f"{table}_p2031_08"} <= set(created)
        assert f"{table}_p2031_09" not in created
    assert usage_partitions_ensure("2031-05-10") == []


@postgresql_only
def test_rows_in_the_default_partition_move_to_their_month_when_it_is_created():
    a = customer("A")
    event = UsageEvent.objects.create(
        customer=a, contact=Contact.objects.create(customer=a, external_id="u1"), event_type="login",
        occurred_at=at("2040-01-15T10:00:00"),
    )  # fmt: skip
    assert where(event) == f"{EVENTS}_default"

    created = usage_partitions_ensure("2031-05-10")

    assert f"{EVENTS}_p2040_01" in created
    assert where(event) == f"{EVENTS}_p2040_01"
    assert UsageEvent.objects.get().pk == event.pk


@postgresql_only
def test_an_import_of_old_events_creates_their_months_for_events_and_rollups(tmp_path):
    a = customer("A")
    assert datetime.date(2019, 6, 1) not in partitions.partition_months(EVENTS)

    announce(run("usage_events", tmp_path, HEADER + "A,u1,login,2019-06-03T09:00:00Z,,\nA,u1,login,2019-08-03T09:00:00Z,,\n"))

    assert where(UsageEvent.objects.earliest("occurred_at")) == f"{EVENTS}_p2019_06"
    assert {datetime.date(2019, 6, 1), datetime.date(2019, 8, 1)} <= partitions.partition_months(EVENTS)
    assert datetime.date(2019, 7, 1) not in partitions.partition_months(EVENTS)  # no event, no partition
    for model in (UserDayActivity, CustomerDayFeature):
        assert datetime.date(2019, 6, 1) in partitions.partition_months(model._meta.db_table)
    assert rollup_rows(a.pk) == [2, 2, 2]
