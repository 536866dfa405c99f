"""The log of what other systems sent: `log_accepted`, `log_refused`, and reading a request's body safely."""

import gzip
import json
import zlib

from integrations.models import InboundEvent

MAX_BODY_BYTES = 5 * 1024 * 1024  # after decompression; Segment's own limit for a batch is 500 KB
RAW_KEPT = 20_000  # characters of a body that is not JSON


class BadRequest(Exception):
    """The body cannot be read: not JSON, too large, or a broken gzip stream."""


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def body_bytes(request) -> bytes:
    """The request's body, gunzipped when sent so (the Segment and RudderStack clients do)."""
    body = request.body
    encoding = request.headers.get("Content-Encoding", "").lower()
    if encoding in ("gzip", "deflate"):
        try:
            stream = zlib.decompressobj(wbits=31 if encoding == "gzip" else 15)
            body = stream.decompress(body, MAX_BODY_BYTES + 1)
        except (zlib.error, gzip.BadGzipFile) as exc:
            raise BadRequest(f"the body is not valid {encoding} ({exc})") from None
    if len(body) > MAX_BODY_BYTES:
        raise BadRequest(f"the body is larger than {MAX_BODY_BYTES:,} bytes")
    return body


def json_body(body: bytes):
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"the body is not JSON ({exc})") from None


def _storable(payload):
    """`payload` without NUL characters, which PostgreSQL's text and jsonb cannot hold."""
    if payload is None:
        return None
    text = json.dumps(payload, default=str)
    return json.loads(text.replace("\\u0000", "\\ufffd")) if "\\u0000" in text else payload


def log_accepted(kind, event_type="", external_id="", request=None) -> InboundEvent:
    return InboundEvent.objects.create(
        kind=kind,
        status=InboundEvent.Status.ACCEPTED,
        event_type=str(event_type)[:100],
        external_id=str(external_id)[:200],
        remote_addr=client_ip(request) if request is not None else None,
    )


def log_refused(kind, error, *, payload=None, raw=b"", event_type="", external_id="", request=None) -> InboundEvent:
    """Keep a refused message with its error and payload (replayable from the Integrations page)."""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    raw = raw.replace("\x00", "\ufffd")
    return InboundEvent.objects.create(
        kind=kind,
        status=InboundEvent.Status.REFUSED,
        event_type=str(event_type)[:100],
        external_id=str(external_id)[:200],
        error=str(error)[:5000].replace("\x00", "\ufffd"),
        payload=_storable(payload),
        raw="" if payload is not None else raw[:RAW_KEPT],
        remote_addr=client_ip(request) if request is not None else None,
    )
