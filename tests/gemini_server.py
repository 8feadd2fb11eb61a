"""A loopback HTTP server that speaks the Gemini REST wire format, driven by a script.

This is a test double at the Gemini boundary, not Gemini: it answers the paths the real google-genai
client calls (Gemini API ``/v1/models/{m}:generateContent`` and ``/v1beta/...``, Vertex AI
``/v1beta1/projects/{p}/locations/{l}/publishers/google/models/{m}:generateContent``, and the
``:streamGenerateContent?alt=sse`` variants) with scripted JSON bodies in the real camelCase format, or
with HTTP errors in Google's ``{"error": {code, message, status}}`` shape. Every request is recorded
(path, query, headers, JSON body) so tests can assert on what the client sent.

Script items are dicts: ``{"json": {...}}`` (HTTP 200), ``{"error": (code, status, message)}``, either
with an optional ``"delay": seconds`` before answering. When the script runs out, ``default`` answers
(if set), else a 500 that names the exhaustion so a test fails loudly. A ``responder(request)``
callable can replace the script entirely (scripts/fake_gemini.py uses that).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

_ROUTE = re.compile(
    r"^/(?P<version>v1|v1beta|v1beta1|v1alpha)/"
    r"(?:projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/publishers/google/)?"
    r"models/(?P<model>[^/:]+):(?P<method>generateContent|streamGenerateContent)$"
)


@dataclass
class Recorded:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: dict[str, Any]
    model: str
    mode: str  # "gemini" (API key paths) or "vertex"
    project: str | None = None
    location: str | None = None
    stream: bool = False
    at: float = field(default_factory=time.monotonic)

    def texts(self) -> list[str]:
        """Every text part of every content in the request (all turns)."""
        return [p["text"] for c in self.body.get("contents", []) for p in c.get("parts", []) if "text" in p]

    def all_text(self) -> str:
        return "\n".join(self.texts())


class GeminiServer:
    """Start with ``with GeminiServer(script) as server:``; ``server.url`` is the base URL."""

    def __init__(
        self,
        script: list[dict[str, Any]] | None = None,
        *,
        default: dict[str, Any] | None = None,
        responder: Callable[[Recorded], dict[str, Any]] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.script = list(script or [])
        self.default = default
        self.responder = responder
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((host, port), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> GeminiServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="gemini-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> GeminiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _next(self, request: Recorded) -> dict[str, Any]:
        if self.responder is not None:
            return self.responder(request)
        with self._lock:
            if self.script:
                return self.script.pop(0)
        if self.default is not None:
            return self.default
        return {"error": (500, "INTERNAL", "test script exhausted: no scripted response left")}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet in tests
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                split = urlsplit(self.path)
                match = _ROUTE.match(split.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if match is None:
                    self._send_error(404, "NOT_FOUND", f"unknown path {split.path}")
                    return
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    self._send_error(400, "INVALID_ARGUMENT", "request body is not JSON")
                    return
                recorded = Recorded(
                    path=split.path,
                    query=parse_qs(split.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                    model=match["model"],
                    mode="vertex" if match["project"] else "gemini",
                    project=match["project"],
                    location=match["location"],
                    stream=match["method"] == "streamGenerateContent",
                )
                with server._lock:
                    server.requests.append(recorded)
                item = server._next(recorded)
                if item.get("delay"):
                    time.sleep(item["delay"])
                try:
                    if "error" in item:
                        code, status, message = item["error"]
                        self._send_error(code, status, message, item.get("details"))
                    elif recorded.stream:
                        self._send_sse(item["json"])
                    else:
                        self._send_json(200, item["json"])
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its timeout): nothing to answer

            def _send_json(self, code: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _send_sse(self, payload: dict[str, Any]) -> None:
                data = f"data: {json.dumps(payload)}\r\n\r\n".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _send_error(self, code: int, status: str, message: str, details: list | None = None) -> None:
                error: dict[str, Any] = {"code": code, "message": message, "status": status}
                if details:
                    error["details"] = details
                self._send_json(code, {"error": error})

        return Handler


# Builders for scripted responses, in the wire format (camelCase), used by tests and the fake.


def text(value: str) -> dict[str, Any]:
    return {"text": value}


def code(source: str) -> dict[str, Any]:
    return {"executableCode": {"language": "PYTHON", "code": source}}


def result(output: str, outcome: str = "OUTCOME_OK") -> dict[str, Any]:
    return {"codeExecutionResult": {"outcome": outcome, "output": output}}


def image(png: bytes) -> dict[str, Any]:
    return {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(png).decode()}}


def usage(prompt: int = 100, output: int = 50, tool: int = 0, thoughts: int = 0) -> dict[str, Any]:
    meta = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": output,
        "totalTokenCount": prompt + output + tool + thoughts,
    }
    if tool:
        meta["toolUsePromptTokenCount"] = tool
    if thoughts:
        meta["thoughtsTokenCount"] = thoughts
    return meta


def answer(parts: list[dict[str, Any]] | None, finish: str = "STOP", **usage_kw: int) -> dict[str, Any]:
    """A 200 generateContent response with one candidate holding ``parts``."""
    content: dict[str, Any] = {"role": "model"}
    if parts is not None:
        content["parts"] = parts
    return {
        "json": {
            "candidates": [{"content": content, "finishReason": finish, "index": 0}],
            "usageMetadata": usage(**usage_kw),
            "modelVersion": "scripted",
        }
    }


def blocked(reason: str = "PROHIBITED_CONTENT") -> dict[str, Any]:
    return {"json": {"promptFeedback": {"blockReason": reason}, "usageMetadata": usage(output=0)}}


def http_error(
    code_: int, status: str, message: str, delay: float = 0.0, retry_delay_s: float | None = None
) -> dict[str, Any]:
    item: dict[str, Any] = {"error": (code_, status, message), "delay": delay}
    if retry_delay_s is not None:
        item["details"] = [
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{retry_delay_s}s"}
        ]
    return item
