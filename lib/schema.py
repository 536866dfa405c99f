"""The OpenAPI schema's shared parts: the error shapes and the errors every operation documents.

`AutoSchema` (settings REST_FRAMEWORK DEFAULT_SCHEMA_CLASS) adds to each operation the
errors it can answer with, all in the two shapes of lib.rest's error contract: `Error`
(`{"detail": "…"}`) and, for a 400, `ValidationError` (`{"field": ["…"]}`, or a `detail`).
Generated clients then parse every answer into a type.
"""

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers


def const_field(value: str, description: str):
    """A string field that always holds `value` (a JSON Schema const), so clients can tell shapes apart."""
    field_class = extend_schema_field({"type": "string", "const": value, "description": description})(
        type(f"Const{value.title().replace('_', '').replace('.', '')}Field", (serializers.CharField,), {})
    )
    return field_class()


@extend_schema_serializer(
    examples=[
        OpenApiExample("Not found", value={"detail": "No such customer."}, response_only=True, status_codes=["404"]),
        OpenApiExample(
            "No token", value={"detail": "Authentication credentials were not provided."}, response_only=True,
            status_codes=["401"],
        ),
    ]
)
class ErrorSerializer(serializers.Serializer):
    """An error that concerns the request as a whole: what went wrong, in words."""

    detail = serializers.CharField()


@extend_schema_serializer(
    examples=[
        OpenApiExample("A bad parameter", value={"end": ["end must be after start"]}, response_only=True,
                       status_codes=["400"]),
        OpenApiExample("A refused record", value={"name": ["is empty"], "customer": ["no customer with id 7"]},
                       response_only=True, status_codes=["400"]),
    ]
)  # fmt: skip
class ValidationErrorSerializer(serializers.Serializer):
    """A refused request (400): each field or query parameter named with its problems, or a `detail`.

    The schema comes from `ValidationErrorExtension`: an object whose keys are the API's
    field or parameter names (`non_field_errors` for the record as a whole).
    """


class ValidationErrorExtension(OpenApiSerializerExtension):
    target_class = ValidationErrorSerializer

    def map_serializer(self, auto_schema, direction):
        return {
            "type": "object",
            "description": ValidationErrorSerializer.__doc__.splitlines()[0],
            "properties": {
                "detail": {"type": "string", "description": "Set when the request as a whole is refused."},
                "non_field_errors": {"type": "array", "items": {"type": "string"}},
            },
            "additionalProperties": {
                "type": "array",
                "items": {"type": "string"},
                "description": "The problems of the field or query parameter of this name.",
            },
        }


ERRORS = {
    "400": "The request is refused: a field, a query parameter or the body as a whole.",
    "401": "No valid token or session.",
    "403": "The user's role may not do this (or the CSRF check of a session failed).",
    "404": "No such object, or one the user may not see.",
    "415": "The body is not of the media type the operation takes.",
    "429": "Too many requests; `Retry-After` says how many seconds to wait.",
}
RETRY_AFTER = {
    "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds until the next request may be made."}
}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema, plus the error answers of each operation."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation["responses"]
        codes = ["429"]
        security = operation.get("security", [])
        if security and {} not in security:  # AllowAny views add {}: authentication is optional
            codes += ["401", "403"]
        if operation.get("parameters") or "requestBody" in operation:
            codes.append("400")  # on a detail path too: an unknown query parameter is refused there as well
        if any(p["in"] == "path" for p in operation.get("parameters", [])):
            codes.append("404")
        if "requestBody" in operation:
            codes.append("415")
        for code in sorted(codes):
            if code in responses:
                continue
            serializer = ValidationErrorSerializer if code == "400" else ErrorSerializer
            responses[code] = self._get_response_for_code(serializer, code)
            responses[code]["description"] = ERRORS[code]
            if code == "429":
                responses[code]["headers"] = RETRY_AFTER
        operation["responses"] = dict(sorted(responses.items()))
        return operation
