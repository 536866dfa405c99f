"""The REST API's JSON parser (settings REST_FRAMEWORK DEFAULT_PARSER_CLASSES).

Its own module: DRF loads parser classes while defining its views, so this must not
import anything that imports rest_framework.views.
"""

import json

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32  # no request body of the API nests deeper than a few levels


def depth_of(data) -> int:
    """Return how deeply lists and objects nest in `data` (a scalar is 0), without recursion."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, level = stack.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        if level > MAX_DEPTH:
            break
        stack.extend((child, level + 1) for child in children)
    return deepest


class UnicodeJSONParser(JSONParser):
    """DRF's JSON parser, refusing text no database can store (JSON may escape lone surrogates,
    "\\ud800") and bodies nested deeper than MAX_DEPTH (the json module recurses: a 400, not a 500)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - the body nests more than {MAX_DEPTH} levels deep") from None
        if depth_of(data) > MAX_DEPTH:
            raise ParseError(f"JSON parse error - the body nests more than {MAX_DEPTH} levels deep")
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ParseError("JSON parse error - the body holds text that is not valid Unicode") from None
        return data
