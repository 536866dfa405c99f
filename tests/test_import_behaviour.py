"""What every import does: atomicity, skipping, dry runs, re-imports, headers and file forms."""

import io

import pytest

from accounts.models import Contact, Customer, Ticket, UsageEvent
from importing.runner import import_file
from tests.import_support import csv_file, customer, messages, run

pytestmark = pytest.mark.django_db

CUSTOMERS = """
external_id,name,country
A,Acme,DE
B,Beta,XXX
C,Gamma,
"""


def test_unknown_kind_is_refused_with_the_list(tmp_path):
    with pytest.raises(ValueError, match="use one of: customers, contacts, subscriptions, usage_events"):
        import_file("invoices", csv_file(tmp_path, "a\n1\n"))


def test_one_bad_row_writes_nothing(tmp_path):
    result = run("customers", tmp_path, CUSTOMERS)
    assert messages(result) == ['3/country: "XXX" is not a two-letter country code (e.g. DE, US)']
    assert (result.rows_read, result.created, result.skipped, result.committed) == (3, 0, 1, False)
    assert not Customer.objects.exists()


def test_a_bad_row_in_a_late_batch_rolls_back_earlier_batches(tmp_path, monkeypatch):
    from importing.events import UsageEvents

    monkeypatch.setattr(UsageEvents, "batch_size", 3)
    customer("A")
    rows = [f"u{i % 2},A,login,2024-02-01T09:00:{i:02d}Z" for i in range(10)]
    rows[-1] = "u1,A,login,not-a-time"
    text = "user_external_id,customer_external_id,event_type,occurred_at\n" + "\n".join(rows) + "\n"
    result = import_file("usage_events", csv_file(tmp_path, text))
    assert [e.line for e in result.errors] == [11]
    assert (result.rows_read, result.skipped, result.created, result.committed) == (10, 1, 0, False)
    assert not UsageEvent.objects.exists() and not Contact.objects.exists()


def test_skip_errors_writes_the_good_rows(tmp_path):
    result = run("customers", tmp_path, CUSTOMERS, skip_errors=True)
    assert (result.rows_read, result.created, result.skipped, result.committed) == (3, 2, 1, True)
    assert set(Customer.objects.values_list("external_id", flat=True)) == {"A", "C"}


def test_dry_run_counts_but_writes_nothing(tmp_path):
    customer("A")
    result = run("customers", tmp_path, "external_id,name\nA,Acme\nB,Beta\n", dry_run=True)
    assert (result.created, result.updated, result.committed, result.dry_run) == (1, 1, False, True)
    assert list(Customer.objects.values_list("external_id", "name")) == [("A", "Customer A")]


def test_dry_run_reports_errors_too(tmp_path):
    result = run("customers", tmp_path, CUSTOMERS, dry_run=True)
    assert (result.created, result.skipped, len(result.errors)) == (2, 1, 1)
    assert not Customer.objects.exists()


def test_reimport_updates_without_duplicates(tmp_path):
    customer("A")
    text = "external_id,customer_external_id,opened_at,subject\nT1,A,2024-02-01T09:00:00Z,{}\n"
    first = run("tickets", tmp_path, text.format("Old"))
    second = run("tickets", tmp_path, text.format("New"))
    assert (first.created, first.updated, second.created, second.updated) == (1, 0, 0, 1)
    assert list(Ticket.objects.values_list("subject", flat=True)) == ["New"]


def test_reimported_usage_events_are_counted_as_unchanged(tmp_path):
    customer("A")
    text = "customer_external_id,user_external_id,event_type,occurred_at\nA,u1,login,2024-02-01T09:00:00Z\n"
    run("usage_events", tmp_path, text)
    again = run("usage_events", tmp_path, text + "A,u1,login,2024-02-01T09:00:00Z\n")
    assert (again.created, again.updated, again.errors) == (0, 2, [])
    assert UsageEvent.objects.count() == 1


def test_two_rows_with_the_same_key_name_the_first_line(tmp_path):
    result = run("customers", tmp_path, "external_id,name\nA,Acme\nB,Beta\nA,Acme again\n")
    assert messages(result) == ["4/external_id: same key as line 2"]


def test_same_key_across_batches_is_found(tmp_path, monkeypatch):
    from importing.kinds import Customers

    monkeypatch.setattr(Customers, "batch_size", 2)
    result = run("customers", tmp_path, "external_id,name\nA,1\nB,2\nC,3\nA,4\n")
    assert messages(result) == ["5/external_id: same key as line 2"]


def test_bom_is_accepted(tmp_path):
    result = import_file("customers", csv_file(tmp_path, "external_id,name\nA,Acme\n", bom=True))
    assert (result.created, result.errors) == (1, [])


def test_columns_in_any_order_and_any_case(tmp_path):
    result = run("customers", tmp_path, "Country, NAME ,external_id\nde,Acme,A\n")
    assert result.errors == []
    assert Customer.objects.values_list("external_id", "name", "country").get() == ("A", "Acme", "DE")


def test_unknown_columns_are_one_error_on_line_1(tmp_path):
    result = run("customers", tmp_path, "external_id,name,vip,tier\nA,Acme,yes,1\n")
    assert len(result.errors) == 1
    error = result.errors[0]
    assert (error.line, error.column) == (1, "")
    assert error.message.startswith('unknown column(s) "vip", "tier"; a customers file has the columns "external_id"')
    assert result.rows_read == 0 and not Customer.objects.exists()


def test_unknown_columns_can_be_ignored(tmp_path):
    result = run("customers", tmp_path, "external_id,name,vip\nA,Acme,yes\n", ignore_unknown=True)
    assert (result.created, result.errors) == (1, [])


def test_missing_required_columns_are_named(tmp_path):
    result = run("tickets", tmp_path, "external_id,subject\nT1,Help\n")
    assert messages(result) == ['1/: missing required column(s) "customer_external_id", "opened_at"']


def test_an_empty_file_is_an_error(tmp_path):
    result = run("customers", tmp_path, "")
    assert messages(result) == ["1/: the first line must name the columns, but it is empty or unreadable"]


def test_rows_with_the_wrong_number_of_cells_are_errors(tmp_path):
    result = run("customers", tmp_path, "external_id,name\nA,Acme,extra\n\nB,Beta\n", skip_errors=True)
    assert messages(result) == ["2/: has 3 values, but the header has 2 columns"]
    assert (result.rows_read, result.created, result.skipped) == (2, 1, 1)


def test_line_numbers_are_physical_lines(tmp_path):
    result = run("customers", tmp_path, 'external_id,name,country\nA,"Acme\nInc",DE\nB,Beta,XXX\n')
    # A's name spans lines 2 and 3 (a name must be on one line); B is on line 4.
    assert [(e.line, e.column) for e in result.errors] == [(2, "name"), (4, "country")]


def test_invalid_utf8_is_reported(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("external_id,name\nA,Müller\n".encode("latin-1"))
    result = import_file("customers", path, skip_errors=True)
    assert "save it as UTF-8" in result.errors[0].message
    assert not result.committed and not Customer.objects.exists()


def test_binary_and_text_file_objects_are_read(tmp_path):
    binary = io.BytesIO(b"\xef\xbb\xbfexternal_id,name\nA,Acme\n")
    assert import_file("customers", binary, source_name="upload.csv").created == 1
    assert not binary.closed
    text = io.StringIO("\ufeffexternal_id,name\nB,Beta\n")
    result = import_file("customers", text)
    assert (result.created, result.source_name) == (1, "upload.csv")


def test_errors_carry_the_file_name(tmp_path):
    result = import_file("customers", csv_file(tmp_path, CUSTOMERS, name="crm.csv"))
    assert (result.errors[0].file, str(result.errors[0])) == (
        "crm.csv",
        'line 3, column "country": "XXX" is not a two-letter country code (e.g. DE, US)',
    )


def test_progress_is_reported_every_batch(tmp_path, monkeypatch):
    from importing.kinds import Customers

    monkeypatch.setattr(Customers, "batch_size", 2)
    seen = []
    run("customers", tmp_path, "external_id,name\nA,1\nB,2\nC,3\n", progress=seen.append)
    assert seen == [2, 3]


def test_invalid_utf8_late_in_a_file_refuses_it_even_when_skipping_errors(tmp_path):
    path = tmp_path / "mixed.csv"
    good = "".join(f"C{i},Name {i}\n" for i in range(5_000)).encode()
    path.write_bytes(b"external_id,name\n" + good + "Z,Müller\n".encode("latin-1"))
    result = import_file("customers", path, skip_errors=True)
    assert [e.message for e in result.errors] == [
        "the file is not UTF-8 text (from about this line on); save it as UTF-8 and import it again"
    ]
    assert result.errors[0].line > 4_000
    assert not result.committed and not Customer.objects.exists()
