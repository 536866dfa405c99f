"""Smoke test of a running csplatform server through the Python client generated from its schema.

Generate the client first (docs/api.md), then, as an admin:

    python clients/python/smoke.py http://127.0.0.1:8000 USERNAME PASSWORD --client-dir DIR

where DIR holds the generated `csplatform_client` package. It gets a token, lists and
creates a customer, a task and a note, reads KPIs and a monthly series, imports a small
customers CSV and polls the import job until it is done; every answer is parsed into the
client's types, so a field the client expects and the server does not send fails here.
Each step prints one line. It writes records named SMOKE-…: run it against a test server.
tests/test_api_clients.py runs it against a live test server.
"""

import argparse
import datetime
import io
import sys
import time
import uuid


def run(base_url: str, username: str, password: str, *, timeout: float = 30.0, say=print) -> dict:
    """Exercise the API through the generated client; return what it saw. Raise AssertionError on a failure."""
    from csplatform_client import AuthenticatedClient, Client
    from csplatform_client.api.auth import auth_token_create
    from csplatform_client.api.customers import customers_create, customers_list
    from csplatform_client.api.imports import imports_create, imports_retrieve
    from csplatform_client.api.kpis import kpis_retrieve, kpis_rows_retrieve, kpis_series_retrieve
    from csplatform_client.api.notes import notes_create, notes_list
    from csplatform_client.api.tasks import tasks_create, tasks_list
    from csplatform_client.models import (
        AuthTokenRequest,
        CustomerRequest,
        ImportJobStatusEnum,
        ImportKindEnum,
        ImportUploadRequest,
        KpiIntervalEnum,
        KpiReport,
        KpiRowsPage,
        KpiSeries,
        NoteRequest,
        TaskRequest,
        Token,
        ValidationError,
    )
    from csplatform_client.types import File

    seen = {}
    token = auth_token_create.sync(client=Client(base_url=base_url), body=AuthTokenRequest(username, password))
    assert isinstance(token, Token), f"no token: {token!r}"
    say("token: ok")
    api = AuthenticatedClient(base_url=base_url, token=token.token, prefix="Token", raise_on_unexpected_status=True)

    tag = uuid.uuid4().hex[:8].upper()
    customer = customers_create.sync(client=api, body=CustomerRequest(external_id=f"SMOKE-{tag}", name=f"Smoke {tag}"))
    assert getattr(customer, "id", None), f"customer not created: {customer!r}"
    page = customers_list.sync(client=api, search=f"SMOKE-{tag}")
    assert [c.id for c in page.results] == [customer.id], page
    seen["customer"] = customer.id
    say(f"customer {customer.id}: created and listed ({page.count} matching)")

    task = tasks_create.sync(
        client=api, body=TaskRequest(customer=customer.id, title="Call the sponsor", due_on=datetime.date.today())
    )
    assert getattr(task, "id", None), f"task not created: {task!r}"
    assert task.id in [t.id for t in tasks_list.sync(client=api, customer=customer.id).results]
    say(f"task {task.id}: created and listed, assigned to {task.assignee}")

    note = notes_create.sync(client=api, body=NoteRequest(customer=customer.id, body="Kick-off went well."))
    assert getattr(note, "id", None), f"note not created: {note!r}"
    assert note.id in [n.id for n in notes_list.sync(client=api, customer=customer.id).results]
    say(f"note {note.id}: created and listed, by {note.author}")

    end = datetime.date.today().replace(day=1)
    start = (end - datetime.timedelta(days=1)).replace(day=1)
    report = kpis_retrieve.sync(client=api, start=start, end=end)
    assert isinstance(report, KpiReport), report
    assert report.period.start == start and report.scope.customer is None
    mrr, churn, nps = report.kpis.mrr, report.kpis.logo_churn_rate, report.kpis.nps
    assert isinstance(mrr.value, (int, float)) and churn.denominator is not None and nps.responses >= 0
    seen["mrr"] = mrr.value
    say(f"KPIs {start}…{end}: MRR {mrr.value}, logo churn {churn.value} ({churn.numerator}/{churn.denominator})")

    refused = kpis_retrieve.sync(client=api, start=end, end=start)
    assert isinstance(refused, ValidationError) and refused.additional_properties["end"], refused
    say(f"a period that ends before it starts: 400, end: {refused.additional_properties['end'][0]}")

    series = kpis_series_retrieve.sync(
        client=api, start=start.replace(month=1), end=end, interval=KpiIntervalEnum.MONTH, keys="mrr,nps"
    )
    assert isinstance(series, KpiSeries), series
    assert [p.period.start.month for p in series.series] == list(range(1, len(series.series) + 1))
    seen["series"] = [p.kpis.mrr.value for p in series.series]
    say(f"series: {len(series.series)} months of MRR {seen['series']}")

    rows = kpis_rows_retrieve.sync(client=api, key="mrr", start=start, end=end, limit=5)
    assert isinstance(rows, KpiRowsPage), rows
    say(f"rows behind MRR: {rows.count}, kinds {sorted({r.kind for r in rows.results})}")

    csv = f"external_id,name,segment\nSMOKE-{tag}-1,Imported one,SMB\nSMOKE-{tag}-2,Imported two,SMB\n"
    upload = ImportUploadRequest(
        kind=ImportKindEnum.CUSTOMERS, file=File(payload=io.BytesIO(csv.encode()), file_name="customers.csv", mime_type="text/csv")
    )
    job = imports_create.sync(client=api, body=upload)
    assert getattr(job, "id", None), f"import not accepted: {job!r}"
    deadline = time.monotonic() + timeout
    while job.status in (ImportJobStatusEnum.QUEUED, ImportJobStatusEnum.RUNNING) and time.monotonic() < deadline:
        time.sleep(0.2)
        job = imports_retrieve.sync(client=api, id=job.id)
    assert job.status == ImportJobStatusEnum.DONE, (job.status, [e.message for e in job.errors])
    assert (job.rows_done, job.created, job.rows_failed) == (2, 2, 0), job
    imported = customers_list.sync(client=api, search=f"SMOKE-{tag}-")
    assert sorted(c.name for c in imported.results) == ["Imported one", "Imported two"]
    seen["import"] = job.id
    say(f"import {job.id}: {job.status.value}, {job.created} customers created")
    return seen


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url")
    parser.add_argument("username")
    parser.add_argument("password")
    parser.add_argument("--client-dir", default=".", help="folder holding the generated csplatform_client package")
    args = parser.parse_args(argv)
    sys.path.insert(0, args.client_dir)
    run(args.base_url.rstrip("/"), args.username, args.password)
    print("smoke test passed")


if __name__ == "__main__":
    main()
