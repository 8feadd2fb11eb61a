"""A forwarding proxy in front of fake-gcs-server that answers 503 to chosen requests.

It speaks the real JSON API (everything else is forwarded byte for byte), so the functions' storage
adapter sees exactly what Cloud Storage sends when it is unavailable.
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.rules: list[list[Any]] = []  # [substring, remaining]
        self.injected: list[str] = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else None
                if proxy._should_fail(self.path):
                    payload = b'{"error":{"code":503,"message":"injected: service unavailable"}}'
                    self.send_response(503)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS}
                request = urllib.request.Request(
                    proxy.upstream + self.path, data=body, headers=headers, method=self.command
                )
                try:
                    response = urllib.request.urlopen(request, timeout=60)
                except urllib.error.HTTPError as err:
                    response = err
                data = response.read()
                self.send_response(response.status if hasattr(response, "status") else response.code)
                for k, v in response.headers.items():
                    if k.lower() not in _HOP_HEADERS:
                        self.send_header(k, v)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def fail(self, path_contains: str, times: int) -> None:
        """Answer 503 to the next ``times`` requests whose path contains ``path_contains``."""
        with self.lock:
            self.rules.append([path_contains, times])

    def _should_fail(self, path: str) -> bool:
        with self.lock:
            for rule in self.rules:
                if rule[0] in path and rule[1] > 0:
                    rule[1] -= 1
                    self.injected.append(path)
                    return True
        return False

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
