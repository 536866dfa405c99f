"""Filter fields of the REST API's query parameters (django-filter), shared by every app's FilterSets.

Whole-number ids, strict booleans, ISO datetime ranges compared in UTC, and a FilterSet
base that filters boolean model fields with them.
"""

import datetime

import django_filters as df
from django import forms
from django.db import models
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

ID_LIMIT = 2**63 - 1


@extend_schema_field(OpenApiTypes.INT)  # the schema says integer, so clients send no "7.0"
class IdFilter(df.NumberFilter):
    """A whole-number id (Django's default NumberFilter takes decimals)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_LIMIT)
        super().__init__(*args, **kwargs)


class BoolFilter(df.TypedChoiceFilter):
    """`true` or `false`; anything else is a 400 (django-filter's BooleanFilter ignores it)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", [("true", "true"), ("false", "false")])
        kwargs.setdefault("coerce", lambda value: value == "true")
        super().__init__(*args, **kwargs)


def _utc(moment):
    """Return an aware datetime in UTC (PostgreSQL refuses offsets beyond ±15:59)."""
    if moment is None or moment.tzinfo is None:
        return moment
    try:
        return moment.astimezone(datetime.timezone.utc)
    except OverflowError:  # within a day of year 1 or 9999: the nearest representable bound
        edge = datetime.datetime.min if moment.year == 1 else datetime.datetime.max
        return edge.replace(tzinfo=datetime.timezone.utc)


class DateTimeRangeFilter(df.IsoDateTimeFromToRangeFilter):
    """`<name>_after` / `<name>_before` as ISO 8601 datetimes, compared in UTC."""

    def filter(self, qs, value):
        if value:
            value = slice(_utc(value.start), _utc(value.stop))
        return super().filter(qs, value)


class FilterSet(df.FilterSet):
    FILTER_DEFAULTS = {**df.FilterSet.FILTER_DEFAULTS, models.BooleanField: {"filter_class": BoolFilter}}
