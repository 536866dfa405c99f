"""ImportJob admin with CSV upload: the upload form runs the import at once and shows its errors."""

import logging

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from importing.jobs import import_job_run
from importing.models import ImportJob
from importing.runner import KINDS
from importing.uploads import validate_import_size

log = logging.getLogger(__name__)


def kind_choices():
    # Called per form: admin loads this module before apps above importing register their kinds.
    return [(kind, kind.replace("_", " ")) for kind in KINDS]


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(choices=kind_choices)
    file = forms.FileField(label="CSV file", validators=[validate_import_size])
    skip_errors = forms.BooleanField(required=False, help_text="Import the good rows and list the bad ones.")
    dry_run = forms.BooleanField(required=False, help_text="Check the file and count, but write nothing.")


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = (
        "__str__", "original_name", "status", "rows_done", "rows_created", "rows_updated", "rows_failed", "created_at"
    )  # fmt: skip
    list_filter = ("status", "kind")
    fields = (
        ("kind", "status"),
        ("original_name", "file"),
        ("skip_errors", "dry_run"),
        ("rows_total", "rows_done"),
        ("rows_created", "rows_updated", "rows_failed"),
        ("created_by", "created_at", "finished_at"),
        ("attempts", "lease_until"),
        "error_table",
    )
    readonly_fields = [f for row in fields for f in (row if isinstance(row, tuple) else (row,))]

    def get_urls(self):
        upload = path("upload/", self.admin_site.admin_view(self.upload_view), name="importing_importjob_upload")
        return [upload, *super().get_urls()]

    def add_view(self, request, form_url="", extra_context=None):
        return self.upload_view(request)

    def upload_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ImportUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            job = ImportJob.objects.create(
                kind=form.cleaned_data["kind"],
                file=upload,
                original_name=upload.name,
                skip_errors=form.cleaned_data["skip_errors"],
                dry_run=form.cleaned_data["dry_run"],
                created_by=request.user,
            )
            self._run(request, job)
            return redirect(reverse("admin:importing_importjob_change", args=[job.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "title": "Import CSV",
        }
        return TemplateResponse(request, "admin/importing/importjob/upload.html", context)

    def _run(self, request, job):
        try:
            result = import_job_run(job.pk)
        except Exception:
            log.exception("import job %s failed", job.pk)
            messages.error(request, "The import stopped unexpectedly; nothing was written. Details below.")
            return
        counts = (
            f"{result.rows_read} rows read, {result.created} created, "
            f"{result.updated} updated, {result.skipped} skipped"
        )
        if result.errors and not job.skip_errors:
            errors = f"{result.error_count} error" + ("s" if result.error_count != 1 else "")
            messages.error(request, f"Nothing written: the file has {errors}. {counts}.")
        elif job.dry_run:
            messages.info(request, f"Dry run, nothing written: {counts}.")
        else:
            messages.success(request, f"Imported: {counts}.")

    @admin.display(description="errors")
    def error_table(self, obj):
        if not obj.errors:
            return "none"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((e.get("line") or "", e.get("column") or "", e.get("message")) for e in obj.errors),
        )
        return format_html(
            "<table><thead><tr><th>line</th><th>column</th><th>message</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )
