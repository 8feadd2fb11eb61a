"""Cloud Function: analyse a CSV when it lands in the input bucket.

Trigger: ``google.cloud.storage.object.v1.finalized`` on the input bucket (Eventarc, at-least-once).
Returning acknowledges the event; raising makes functions-framework answer HTTP 500, so Eventarc
redelivers it with backoff (transient failures only: permanent ones end in a failed result message).
"""

from __future__ import annotations

import functions_framework

from shared import handlers

handlers.instance_setup(warm_sandbox=True)


@functions_framework.cloud_event
def analyze(cloud_event) -> None:
    """Entry point (``--target analyze``)."""
    outcome = handlers.analyze_event(cloud_event, handlers.cloud_services())
    if outcome.retry:
        raise handlers.RetryRequested(f"{outcome.error_code}: {outcome.detail}")
