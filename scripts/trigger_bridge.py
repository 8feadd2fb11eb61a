"""The local stand-in for Eventarc's Cloud Storage trigger.

fake-gcs-server publishes a GCS notification (JSON_API_V1 payload) to a Pub/Sub emulator topic; a push
subscription delivers it here; the bridge re-posts it to the analyze function as the binary-mode
CloudEvent Eventarc sends (``ce-*`` headers, the object resource as the JSON body) and answers the
push with the function's status, so a function failure (HTTP 500) makes Pub/Sub redeliver, as
Eventarc would retry.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

logger = logging.getLogger(__name__)

# GCS notification eventType → CloudEvent type (the finalized event is the one the pipeline uses).
EVENT_TYPES = {
    "OBJECT_FINALIZE": "google.cloud.storage.object.v1.finalized",
    "OBJECT_DELETE": "google.cloud.storage.object.v1.deleted",
    "OBJECT_METADATA_UPDATE": "google.cloud.storage.object.v1.metadataUpdated",
}


def storage_cloudevent(envelope: dict[str, Any]) -> tuple[dict[str, str], bytes] | None:
    """Pub/Sub push envelope of a GCS notification → (binary-mode headers, body), as Eventarc posts it.

    None for notifications the trigger would not forward (unknown event types).
    """
    message = envelope.get("message") or {}
    attributes = message.get("attributes") or {}
    ce_type = EVENT_TYPES.get(attributes.get("eventType", ""))
    if ce_type is None:
        return None
    body = base64.b64decode(message.get("data") or "")
    resource = json.loads(body)
    bucket = attributes.get("bucketId") or resource.get("bucket", "")
    name = attributes.get("objectId") or resource.get("name", "")
    headers = {
        "ce-specversion": "1.0",
        "ce-id": str(message.get("messageId") or message.get("message_id") or ""),
        "ce-source": f"//storage.googleapis.com/projects/_/buckets/{bucket}",
        "ce-type": ce_type,
        "ce-subject": f"objects/{name}",
        "ce-time": attributes.get("eventTime") or resource.get("updated") or resource.get("timeCreated", ""),
        "ce-bucket": bucket,
        "content-type": "application/json",
    }
    return headers, body


class TriggerBridge:
    """A threaded HTTP server: POST /  (push envelope) → POST <target> (CloudEvent)."""

    def __init__(
        self, target_url: str, host: str = "127.0.0.1", port: int = 0, timeout_s: float = 600.0
    ) -> None:
        self.target_url = target_url
        self.timeout_s = timeout_s
        self.forwarded = 0
        bridge = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                status = bridge.handle(self.rfile.read(length))
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:  # quiet: the functions log each run
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="trigger-bridge", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self) -> TriggerBridge:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handle(self, raw: bytes) -> int:
        """Forward one push delivery; the status tells Pub/Sub to ack (2xx) or redeliver."""
        try:
            converted = storage_cloudevent(json.loads(raw))
        except (ValueError, TypeError, AttributeError):
            logger.warning("bridge dropped a malformed notification")
            return 204  # acknowledged: redelivering the same bytes cannot help
        if converted is None:
            return 204
        headers, body = converted
        request = urllib.request.Request(self.target_url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                status = response.status
        except urllib.error.HTTPError as err:
            status = err.code
        except OSError as err:  # function down or restarting: let Pub/Sub redeliver
            logger.warning("bridge could not reach the function: %s", err)
            return 503
        self.forwarded += 1
        return 204 if 200 <= status < 300 else 500
