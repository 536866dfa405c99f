"""Usage events through both write paths: the same files give the same errors, rows and counts.

On SQLite the rows go through the Python-checked path, on PostgreSQL (CI) through the
COPY staging path; every test here without a skip mark runs on whichever database the
suite uses, so the expectations below hold for both.
"""

import datetime

import pytest
from django.db import connection

from accounts.models import Contact, UsageEvent
from importing.events_pg import _instants_are_plain
from importing.parsing import parse_datetime
from tests.import_support import at, contact, customer, messages, run

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the COPY staging path runs on PostgreSQL only"
)

HEADER = "customer_external_id,user_external_id,event_type,occurred_at,session_id\n"

# Valid instants in the forms PostgreSQL reads like Python, and in forms only Python reads
# (they must be stored exactly as parse_datetime reads them, not refused).
VALID_INSTANTS = [
    "2024-02-01T09:00:00Z",
    "2024-02-01T09:00:00",
    "2024-02-01 09:00",
    "2024-02-01",
    "2024-02-29T23:59:59.123456+01:00",
    "2024-02-01T09:00:00.5-0530",
    "2024-02-01T09:00+05",
    "20240201T093000",  # basic format
    "2024-02-01T09:00:00.1234567Z",  # 7 decimals: Python cuts, PostgreSQL would round
    "2024-02-01T09:00:00+18:00",  # PostgreSQL refuses offsets past 15:59
    "2024-W05-4T10:00",  # week date
    "2199-12-31T23:00:00",  # the edges of the accepted window (lib.dates)
    "1900-01-01T00:00:00+00:00",
]

MIXED = f"""{HEADER}A,u1,login,2024-02-01T09:00:00Z,s1
X9,u1,login,2024-02-01T09:00:00Z,
,u1,login,2024-02-01T09:00:00Z,
A,,login,yesterday,

A,u2,{"e" * 101},2024-02-01T09:00:00Z,{"s" * 101}
A,u2,report,2024-02-30T09:00:00Z,
A,u2,report,0000-01-01T09:00:00,
A,u2,report,2024-02-01T25:00:00,
A,u2,"multi
line",2024-02-01T10:00:00Z,
A,u3,report,2024-02-01T11:00:00Z
A,u3,"tab\there",2024-02-01T12:00:00Z,"back\\slash"
A,u3,report,0001-01-01T00:00:00+01:00,
"""

MIXED_ERRORS = [
    # The runner reports a wrong number of values as it reads, before the batch is checked.
    "13/: has 4 values, but the header has 5 columns",
    '3/customer_external_id: no customer with id "X9" (import customers first)',
    "4/customer_external_id: is empty; a value is required",
    "5/user_external_id: is empty; a value is required",
    '5/occurred_at: "yesterday" is not a date and time (use ISO 8601, e.g. 2024-03-01T09:30:00Z)',
    "7/event_type: is 101 characters long; at most 100 are allowed",
    "7/session_id: is 101 characters long; at most 100 are allowed",
    '8/occurred_at: "2024-02-30T09:00:00Z" is not a date and time (use ISO 8601, e.g. 2024-03-01T09:30:00Z)',
    '9/occurred_at: "0000-01-01T09:00:00" is not a date and time (use ISO 8601, e.g. 2024-03-01T09:30:00Z)',
    '10/occurred_at: "2024-02-01T25:00:00" is not a date and time (use ISO 8601, e.g. 2024-03-01T09:30:00Z)',
    '15/occurred_at: "0001-01-01T00:00:00+01:00" is out of the range of dates that can be stored',
]


def _stored():
    return sorted(
        UsageEvent.objects.values_list("contact__external_id", "event_type", "occurred_at", "session_id")
    )


def test_every_valid_instant_is_stored_as_python_reads_it(tmp_path):
    a = customer("A")
    rows = "".join(f"A,u1,e{i},{text},\n" for i, text in enumerate(VALID_INSTANTS))
    result = run("usage_events", tmp_path, HEADER + rows)
    assert (result.errors, result.created, result.committed) == ([], len(VALID_INSTANTS), True)
    stored = dict(UsageEvent.objects.values_list("event_type", "occurred_at"))
    assert stored == {f"e{i}": parse_datetime(text) for i, text in enumerate(VALID_INSTANTS)}
    assert result.touched_from == parse_datetime("1900-01-01T00:00:00+00:00")
    assert result.touched_to == parse_datetime("2199-12-31T23:00:00")
    assert result.touched_customer_ids == {a.pk}


@pytest.mark.parametrize("text", ["9999-12-31T23:00:00", "0001-01-01T00:00:00+00:00", "1899-12-31T23:59:59Z", "2200-01-01"])
def test_instants_outside_the_window_are_row_errors_with_the_window(tmp_path, text):
    customer("A")
    result = run("usage_events", tmp_path, f"{HEADER}A,u1,login,2024-02-01T09:00:00Z,\nA,u1,e,{text},\n")
    assert [(e.line, e.column) for e in result.errors] == [(3, "occurred_at")]
    assert "outside the dates this app accepts (1900-01-01 to 2199-12-31)" in result.errors[0].message
    assert not result.committed and not UsageEvent.objects.exists()


def test_a_file_with_errors_names_every_line_and_writes_nothing(tmp_path):
    customer("A")
    result = run("usage_events", tmp_path, MIXED)
    assert messages(result) == MIXED_ERRORS
    assert (result.rows_read, result.skipped, result.created, result.committed) == (12, 9, 0, False)
    assert not UsageEvent.objects.exists() and not Contact.objects.exists()


def test_skip_errors_writes_the_good_rows_with_their_cells_intact(tmp_path):
    customer("A")
    result = run("usage_events", tmp_path, MIXED, skip_errors=True)
    assert messages(result) == MIXED_ERRORS
    assert (result.created, result.updated, result.skipped, result.committed) == (3, 0, 9, True)
    assert _stored() == [
        ("u1", "login", at("2024-02-01T09:00"), "s1"),
        ("u2", "multi\nline", at("2024-02-01T10:00"), ""),
        ("u3", "tab\there", at("2024-02-01T12:00"), "back\\slash"),
    ]
    assert set(Contact.objects.values_list("external_id", flat=True)) == {"u1", "u2", "u3"}
    assert (result.touched_from, result.touched_to) == (at("2024-02-01T09:00"), at("2024-02-01T12:00"))


def test_dry_run_counts_new_and_stored_rows_and_writes_nothing(tmp_path):
    a = customer("A")
    known = contact(a, "u1")
    UsageEvent.objects.create(customer=a, contact=known, event_type="login", occurred_at=at("2024-02-01T09:00"))
    text = f"{HEADER}A,u1,login,2024-02-01T10:00:00+01:00,\nA,u1,login,2024-02-01T10:00:00Z,\nA,u9,x,2024-02-02,\n"
    result = run("usage_events", tmp_path, text, dry_run=True)
    assert (result.created, result.updated, result.errors, result.committed) == (2, 1, [], False)
    assert UsageEvent.objects.count() == 1 and Contact.objects.count() == 1


def test_duplicates_within_the_file_and_on_reimport_are_counted_once(tmp_path, monkeypatch):
    from importing.events import UsageEvents

    monkeypatch.setattr(UsageEvents, "batch_size", 2)  # the duplicate falls into the next batch
    customer("A")
    text = f"{HEADER}A,u1,login,2024-02-01T09:00:00Z,\nA,u1,view,2024-02-01T09:00:00Z,\nA,u1,login,2024-02-01T10:00:00+01:00,\n"
    first = run("usage_events", tmp_path, text)
    again = run("usage_events", tmp_path, text)
    assert (first.created, first.updated, again.created, again.updated) == (2, 1, 0, 3)
    assert UsageEvent.objects.count() == 2 and Contact.objects.count() == 1


def test_progress_is_called_after_every_batch(tmp_path, monkeypatch):
    from importing.events import UsageEvents
    from importing.runner import import_file
    from tests.import_support import csv_file

    monkeypatch.setattr(UsageEvents, "batch_size", 2)
    customer("A")
    rows = "".join(f"A,u1,login,2024-02-01T09:00:0{i}Z,\n" for i in range(5))
    seen = []
    result = import_file("usage_events", csv_file(tmp_path, HEADER + rows), progress=seen.append)
    assert (seen, result.created) == ([2, 4, 5], 5)


@postgresql_only
def test_nul_characters_are_refused_on_postgresql(tmp_path):
    customer("A")
    text = f"{HEADER}A,u1,login,2024-02-01T09:00:00Z,\nA,u\x001,login,2024-02-01T09:00:00Z,\n"
    result = run("usage_events", tmp_path, text, skip_errors=True)
    assert messages(result) == [
        (
            "3/user_external_id: contains a NUL character (a zero byte), which cannot be stored; "
            "is this really a text file?"
        )
    ]
    assert (result.created, result.skipped) == (1, 1)


@postgresql_only
@pytest.mark.parametrize("few", [100, 0])  # near contacts' rows probed alone, or every row probed
def test_rows_near_stored_events_are_probed_and_the_others_inserted_as_new(tmp_path, monkeypatch, few):
    from importing import events_pg

    monkeypatch.setattr(events_pg, "_FEW", few)
    a = customer("A")
    UsageEvent.objects.create(customer=a, contact=contact(a, "u1"), event_type="login", occurred_at=at("2024-02-01T09:00"))
    text = (
        f"{HEADER}A,u1,login,2024-02-01T09:00:00Z,\nA,u1,view,2024-02-01T08:00:00Z,\n"  # a stored one, a new one in its span
        "A,u2,login,2024-02-01T09:00:00Z,\nA,u2,login,2024-02-01T09:00:00Z,\n"  # new, twice in the file
    )
    result = run("usage_events", tmp_path, text)
    assert (result.created, result.updated) == (2, 2)
    assert sorted(UsageEvent.objects.values_list("contact__external_id", "event_type")) == [
        ("u1", "login"), ("u1", "view"), ("u2", "login")
    ]


@postgresql_only
def test_a_batch_meeting_an_event_a_concurrent_import_stored_is_written_again_with_probes(tmp_path, monkeypatch):
    """A stored event the check for stored neighbours did not see (a concurrent import's) fails the plain insert."""
    from importing import events_pg

    monkeypatch.setattr(events_pg, "_NEAR", "SELECT 1 WHERE false")  # sees no stored event
    a = customer("A")
    UsageEvent.objects.create(customer=a, contact=contact(a, "u1"), event_type="login", occurred_at=at("2024-02-01T09:00"))
    text = f"{HEADER}A,u1,login,2024-02-01T09:00:00Z,\nA,u2,login,2024-02-01T09:00:00Z,\n"
    result = run("usage_events", tmp_path, text)
    assert (result.created, result.updated, result.errors) == (1, 1, [])
    assert UsageEvent.objects.count() == 2


@postgresql_only
def test_postgresql_uses_the_staging_path():
    from importing.base import Run
    from importing.events import UsageEvents

    assert UsageEvents(Run("usage_events", "x.csv", False)).staged is not None


# --- the column check that decides whether PostgreSQL may read a batch's instants itself --


@pytest.mark.parametrize(
    "instants",
    [
        ["2024-02-01T09:00:00Z"] * 3,
        ["2024-02-01", "2024-02-01 09:00", "2024-02-01T09:00:00.123456+15:59", "2024-02-01T09:00-0530"],
    ],
)
def test_plain_instants_are_left_to_postgresql(instants):
    assert _instants_are_plain(instants)


@pytest.mark.parametrize(
    "odd",
    [
        "20240201T093000",
        "2024-02-01T09:00:00+16:00",
        "2024-02-01T09:00:00.1234567",
        "2024-02-01T09:00:00,5",
        "2024-W05-4",
        "2024-02-01x09:00",
        "0001-01-01T00:00:00Z",
        "9999-12-31T00:00:00Z",
        "2024-02-30",
        "",
    ],
)
def test_other_instants_are_left_to_python(odd):
    assert not _instants_are_plain(["2024-02-01T09:00:00Z", odd])


def test_no_offset_means_utc():
    assert parse_datetime("2024-02-01T09:00") == datetime.datetime(2024, 2, 1, 9, tzinfo=datetime.UTC)
