"""Cloud Function: write the report of a result message into the reports bucket.

Trigger: ``google.cloud.pubsub.topic.v1.messagePublished`` on the results topic. Returning
acknowledges the message; raising (HTTP 500) makes Pub/Sub redeliver it, and after the subscription's
maximum delivery attempts it moves to the dead-letter topic.
"""

from __future__ import annotations

import functions_framework

from shared import handlers

handlers.instance_setup()


@functions_framework.cloud_event
def report(cloud_event) -> None:
    """Entry point (``--target report``)."""
    outcome = handlers.report_event(cloud_event, handlers.cloud_services())
    if outcome.retry:
        raise handlers.RetryRequested(f"{outcome.error_code}: {outcome.detail}")
