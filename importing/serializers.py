"""JSON shapes of import jobs and of the upload that starts one."""

from rest_framework import serializers

from importing.models import ImportJob
from importing.runner import KINDS
from importing.uploads import validate_import_size


class ImportErrorSerializer(serializers.Serializer):
    """One problem of the file: where it is (line 1 is the header) and what it is."""

    line = serializers.IntegerField(allow_null=True, help_text="Null for a problem of the whole file.")
    column = serializers.CharField(allow_blank=True)
    message = serializers.CharField()


class ImportJobSerializer(serializers.ModelSerializer):
    created = serializers.IntegerField(source="rows_created", read_only=True)
    updated = serializers.IntegerField(source="rows_updated", read_only=True)
    errors = ImportErrorSerializer(many=True, read_only=True)

    class Meta:
        model = ImportJob
        fields = (
            "id", "kind", "status", "original_name", "skip_errors", "dry_run", "rows_total", "rows_done",
            "rows_failed", "created", "updated", "errors", "created_at", "finished_at",
        )  # fmt: skip
        read_only_fields = fields


class ImportUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=())  # every registered kind, filled in per instance
    file = serializers.FileField(
        help_text="A CSV file in the import format of its kind, at most CSPLATFORM_MAX_IMPORT_BYTES.",
        validators=[validate_import_size],
    )
    skip_errors = serializers.BooleanField(default=False)
    dry_run = serializers.BooleanField(default=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Per instance: apps above importing register their kinds once every app is loaded.
        self.fields["kind"].choices = list(KINDS)
