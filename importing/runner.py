"""Running one import: open the source, check the header, stream batches, commit or roll back.

The file is read with `csv.reader` over a text stream and handed to its kind in
batches, all inside one transaction, so memory stays flat however large the file.
Without `skip_errors` the first error stops the writing (the rest is only validated)
and the transaction is rolled back at the end; a dry run writes every good row and
rolls back, so its counts are exactly what a real run would do.
"""

import csv
import io
import os

from django.db import transaction

from importing.base import ImportResult, Kind, Run
from importing.events import UsageEvents
from importing.kinds import Contacts, Costs, Customers, Leads, Subscriptions, Tickets

# Every kind by name: accounts' own here; apps above register theirs in their AppConfig.ready().
KINDS: dict[str, type[Kind]] = {
    kind.name: kind for kind in (Customers, Contacts, Subscriptions, UsageEvents, Tickets, Costs, Leads)
}


def register(kind: type[Kind]) -> None:
    """Make `kind` importable under its name (an app above importing adds the kinds of its models)."""
    if KINDS.setdefault(kind.name, kind) is not kind:
        raise ValueError(f"another import kind is registered as {kind.name!r}")


NOT_UTF8 = "the file is not UTF-8 text (from about this line on); save it as UTF-8 and import it again"


def import_file(
    kind: str,
    source,
    *,
    skip_errors=False,
    dry_run=False,
    ignore_unknown=False,
    progress=None,
    source_name=None,
) -> ImportResult:
    """Import the CSV `source` (a path, or a binary or text file object) as `kind`.

    Without `skip_errors` a file with any error changes nothing. `progress` is called
    with the number of rows read after every batch. `source_name` names the file in
    errors (default: the path's or file object's base name).
    """
    try:
        kind_class = KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown import kind {kind!r}; use one of: {', '.join(KINDS)}") from None
    stream, name, close = _open_text(source)
    try:
        run = Run(kind, source_name or name, dry_run)
        reader = csv.reader(stream)
        if _read_header(run, kind_class, reader, ignore_unknown):
            _import_rows(run, kind_class(run), reader, skip_errors=skip_errors, dry_run=dry_run, progress=progress)
        return run.result
    finally:
        close()


def _open_text(source):
    """Return (text stream, name, close) for a path or a file object; a BOM is dropped."""
    if isinstance(source, (str, os.PathLike)):
        stream = open(source, encoding="utf-8-sig", newline="")  # noqa: SIM115 - closed by the caller
        return stream, os.path.basename(source), stream.close
    name = os.path.basename(getattr(source, "name", None) or "upload.csv")
    if isinstance(source.read(0), bytes):
        stream = io.TextIOWrapper(source, encoding="utf-8-sig", newline="")
        return stream, name, stream.detach  # detach: the caller's file stays open
    return source, name, lambda: None


def _read_header(run: Run, kind_class, reader, ignore_unknown) -> bool:
    """Check the header row and set `run.index`; return False (with errors) if it is unusable."""
    try:
        header = next(reader, None)
    except UnicodeDecodeError:
        run.error(1, "", NOT_UTF8)
        return False
    except csv.Error:
        header = None
    if not header or not any(cell.strip() for cell in header):
        run.error(1, "", "the first line must name the columns, but it is empty or unreadable")
        return False
    names = [cell.strip().lower() for cell in header]
    run.width = len(names)
    names[0] = names[0].lstrip("\ufeff")  # text streams opened by the caller keep the BOM
    known = kind_class.columns()
    doubled = sorted({n for n in names if n and names.count(n) > 1})
    if doubled:
        run.error(1, "", f"{_quoted(doubled)} appear more than once in the header")
    unknown = [n or "(blank)" for n in names if n not in known]
    if unknown and not ignore_unknown:
        run.error(
            1, "", f"unknown column(s) {_quoted(unknown)}; a {run.result.kind} file has the columns {_quoted(known)}"
        )
    missing = [c for c in kind_class.required if c not in names]
    if missing:
        run.error(1, "", f"missing required column(s) {_quoted(missing)}")
    run.index = {n: i for i, n in enumerate(names) if n in known}
    return not run.result.errors


def _quoted(names):
    return ", ".join(f'"{n}"' for n in names)


def _import_rows(run: Run, handler: Kind, reader, *, skip_errors, dry_run, progress):
    result = run.result
    batch: list[tuple[int, list[str]]] = []
    readable = True

    def flush():
        # Once a strict import has an error nothing will be kept: validate only.
        handler.handle(batch, write=dry_run or skip_errors or not result.errors)
        batch.clear()
        if progress is not None:
            progress(result.rows_read)

    with transaction.atomic():
        last_line = reader.line_num
        try:
            for cells in reader:
                line, last_line = last_line + 1, reader.line_num  # a quoted cell may span lines
                if len(cells) != run.width:
                    if not any(cells):
                        continue  # blank line
                    result.rows_read += 1
                    result.skipped += 1
                    run.error(line, "", f"has {len(cells)} values, but the header has {run.width} columns")
                    continue
                if not cells[0] and not any(cells):
                    continue  # a line of empty cells
                result.rows_read += 1
                batch.append((line, cells))
                if len(batch) >= handler.batch_size:
                    flush()
        except UnicodeDecodeError:
            readable = False
            run.error(last_line + 1, "", NOT_UTF8)  # text is decoded in blocks: "about" this line
        except csv.Error as exc:
            readable = False
            run.error(last_line + 1, "", f"cannot be read as CSV ({exc})")
        if batch:
            flush()
        result.committed = readable and not dry_run and (skip_errors or not result.errors)
        if not result.committed:
            transaction.set_rollback(True)
    if not result.committed and not dry_run:
        result.created = result.updated = 0
