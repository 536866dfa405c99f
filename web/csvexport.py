"""CSV downloads of the web app: every cell a spreadsheet could run as a formula is neutralised.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula (or
becomes one) in Excel, LibreOffice and Google Sheets (CSV injection); it gets a leading
apostrophe, which spreadsheets show as text. Numbers stay numbers. The file name is cut
to safe characters, so a hostile segment or customer name cannot break the header.
"""

import csv
import re
from decimal import Decimal

from django.http import HttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
UNSAFE_IN_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def safe_cell(value):
    """Return `value` as a CSV cell: "" for None, numbers unchanged, text starting a formula prefixed with '."""
    if value is None:
        return ""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def safe_filename(name: str) -> str:
    """Return `name` with every run of characters other than letters, digits, '.', '_' and '-' as one '-'."""
    return UNSAFE_IN_FILENAME.sub("-", name).strip("-") or "export.csv"


def csv_response(filename: str, header, rows) -> HttpResponse:
    """Return a CSV attachment of `header` and `rows`, every cell through `safe_cell`."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{safe_filename(filename)}"'
    writer = csv.writer(response)
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(c) for c in row])
    return response
