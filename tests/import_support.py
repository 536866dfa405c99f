"""Helpers for the import tests: write a CSV to tmp_path and import it; make reference rows."""

import datetime
import textwrap

from accounts.models import Contact, Customer
from importing.runner import import_file

UTC = datetime.UTC


def csv_file(tmp_path, text, name="data.csv", *, bom=False):
    path = tmp_path / name
    body = textwrap.dedent(text).lstrip("\n")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + body.encode("utf-8"))
    return path


def run(kind, tmp_path, text, **options):
    return import_file(kind, csv_file(tmp_path, text), **options)


def messages(result):
    """Return the errors as 'LINE/COLUMN: message' strings, easy to compare."""
    return [f"{e.line}/{e.column}: {e.message}" for e in result.errors]


def customer(external_id="A", **fields):
    return Customer.objects.create(external_id=external_id, name=fields.pop("name", f"Customer {external_id}"), **fields)


def contact(cust, external_id="u1", **fields):
    return Contact.objects.create(customer=cust, external_id=external_id, **fields)


def at(text):
    return datetime.datetime.fromisoformat(text).replace(tzinfo=UTC)
