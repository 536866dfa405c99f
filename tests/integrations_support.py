"""A local HTTP server for the integrations' tests: it plays Stripe's and Zendesk's APIs and a chat receiver.

`FixtureServer` answers each (method, path) with a registered handler, or with JSON
registered for the path, and records every request it got (method, path, query, headers,
body), so a test sees what the real client library sent.
"""

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Seen:
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


class FixtureServer:
    def __init__(self):
        self.routes = {}
        self.requests: list[Seen] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self):
                parts = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                seen = Seen(self.command, parts.path, parse_qs(parts.query), dict(self.headers), body)
                server.requests.append(seen)
                route = server.routes.get((self.command, parts.path)) or server.routes.get(("*", parts.path))
                if route is None:
                    status, payload = 404, {"error": {"message": f"no fixture for {self.command} {parts.path}"}}
                elif callable(route):
                    status, payload = route(seen)
                else:
                    status, payload = 200, route
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = _answer

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def route(self, method, path, answer):
        self.routes[(method, path)] = answer
