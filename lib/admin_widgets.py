"""Admin form parts that refuse hostile input with a form error instead of crashing.

Django's AutocompleteSelect looks the submitted values up with `pk__in=[...]` when it
redraws a form with errors; a value that is not a key (`customer=bogus`) then raises a
ValueError and the admin answers 500 instead of "Select a valid choice". These widgets
drop values the target field cannot parse before that lookup.

A JSON field's text may spell a NUL character as `\\u0000` (the NUL middleware only sees
raw NULs); PostgreSQL's jsonb refuses it, so the save answered 500. `NulFreeJSONField`
refuses it as a form error; the admin site uses it for every model JSONField.
"""

from django import forms
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import ValidationError


def _parsable(widget, values):
    remote = widget.field.remote_field
    opts = remote.model._meta
    target = opts.get_field(getattr(remote, "field_name", None) or opts.pk.name)
    kept = []
    for value in values:
        try:
            key = target.to_python(value)
        except (ValidationError, TypeError, ValueError):
            continue
        if isinstance(key, int) and not -(2**63) <= key < 2**63:
            continue  # SQLite raises OverflowError beyond 64 bits
        kept.append(value)
    return kept


class ParsedAutocompleteSelect(AutocompleteSelect):
    def optgroups(self, name, value, attr=None):
        return super().optgroups(name, _parsable(self, value), attr)


class ParsedAutocompleteSelectMultiple(AutocompleteSelectMultiple):
    def optgroups(self, name, value, attr=None):
        return super().optgroups(name, _parsable(self, value), attr)


class ParsedAutocompleteAdmin:
    """ModelAdmin mixin: `autocomplete_fields` use the widgets above."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = ParsedAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = ParsedAutocompleteSelectMultiple(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_manytomany(db_field, request, **kwargs)


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class NulFreeJSONField(forms.JSONField):
    """A JSON form field that refuses a NUL character (`\\u0000`) in any key or string."""

    def validate(self, value):
        super().validate(value)
        if _has_nul(value):
            raise ValidationError("must not contain NUL characters (\\u0000)", code="nul")
