"""`manage.py import_csv`: error lines, summary line and exit code."""

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Customer
from tests.import_support import csv_file

pytestmark = pytest.mark.django_db

BAD = "external_id,name,country\nA,Acme,DE\nB,Beta,XXX\n"


def call(*args):
    from io import StringIO

    out, err = StringIO(), StringIO()
    try:
        call_command("import_csv", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return out.getvalue(), err.getvalue(), str(exc)
    return out.getvalue(), err.getvalue(), None


def test_a_good_file_prints_the_summary(tmp_path):
    path = csv_file(tmp_path, "external_id,name\nA,Acme\n")
    out, err, failure = call("customers", str(path))
    assert (out, err, failure) == ("rows read 1, created 1, updated 0, skipped 0\n", "", None)
    assert Customer.objects.count() == 1


def test_errors_are_printed_per_line_and_the_command_fails(tmp_path):
    path = csv_file(tmp_path, BAD)
    out, err, failure = call("customers", str(path))
    assert err == f'{path}:3: column "country": "XXX" is not a two-letter country code (e.g. DE, US)\n'
    assert out == "rows read 2, created 0, updated 0, skipped 1\n"
    assert failure == "nothing written: fix the errors above or use --skip-errors"
    assert not Customer.objects.exists()


def test_header_errors_have_no_column(tmp_path):
    path = csv_file(tmp_path, "external_id\nA\n")
    _, err, failure = call("customers", str(path))
    assert err == f'{path}:1: missing required column(s) "name"\n'
    assert failure


def test_skip_errors_succeeds_with_the_good_rows(tmp_path):
    out, err, failure = call("customers", str(csv_file(tmp_path, BAD)), "--skip-errors")
    assert failure is None and "XXX" in err
    assert out == "rows read 2, created 1, updated 0, skipped 1\n"
    assert list(Customer.objects.values_list("external_id", flat=True)) == ["A"]


def test_dry_run_says_nothing_was_written(tmp_path):
    out, _, failure = call("customers", str(csv_file(tmp_path, "external_id,name\nA,Acme\n")), "--dry-run")
    assert (out, failure) == ("rows read 1, created 1, updated 0, skipped 0 (dry run, nothing written)\n", None)
    assert not Customer.objects.exists()


def test_ignore_unknown(tmp_path):
    path = str(csv_file(tmp_path, "external_id,name,vip\nA,Acme,yes\n"))
    assert call("customers", path)[2]
    assert call("customers", path, "--ignore-unknown")[2] is None


def test_a_missing_file_is_a_clear_error(tmp_path):
    assert call("customers", str(tmp_path / "nope.csv"))[2] == f"cannot read {tmp_path / 'nope.csv'}: No such file or directory"


def test_an_unknown_kind_is_refused():
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("import_csv", "invoices", "x.csv")
