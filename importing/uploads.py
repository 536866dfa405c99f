"""The size limit of uploaded import files (admin upload and POST /api/v1/imports/)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat


def validate_import_size(upload) -> None:
    """Refuse an upload larger than CSPLATFORM_MAX_IMPORT_BYTES with a message that names both sizes."""
    limit = settings.CSPLATFORM_MAX_IMPORT_BYTES
    if upload.size is not None and upload.size > limit:
        raise ValidationError(
            "The file is %(size)s; an import takes at most %(limit)s. Split it into smaller files.",
            code="file_too_large",
            params={"size": filesizeformat(upload.size), "limit": filesizeformat(limit)},
        )
