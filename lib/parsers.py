"""The REST API's JSON parser (settings REST_FRAMEWORK DEFAULT_PARSER_CLASSES).

Its own module: DRF loads parser classes while defining its views, so this must not
import anything that imports rest_framework.views.
"""

import json

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class UnicodeJSONParser(JSONParser):
    """DRF's JSON parser, refusing text no database can store: JSON may escape lone surrogates ("\\ud800")."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ParseError("JSON parse error - the body holds text that is not valid Unicode") from None
        return data
