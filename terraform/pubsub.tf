# Topics: results (one message per analysed file), alerts (one per fired rule) and a dead-letter topic
# for result messages the report function could not handle.
#
# The report function is fed by our own push subscription, not by an event_trigger: a 2nd gen
# function's Pub/Sub event_trigger creates an Eventarc-managed subscription that we cannot give a
# dead-letter policy. functions-framework turns the standard Pub/Sub push envelope into the same
# google.cloud.pubsub.topic.v1.messagePublished CloudEvent Eventarc would send, so the code is the same.

locals {
  message_retention = "${var.message_retention_days * 86400}s"
  pubsub_agent      = "service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
  report_uri        = google_cloudfunctions2_function.report.service_config[0].uri
}

resource "google_pubsub_topic" "results" {
  #checkov:skip=CKV_GCP_83:Messages carry dataset summaries, not the data; Google-managed encryption is used. Add kms_key_name if policy requires CMEK.
  name                       = "${var.prefix}-results"
  project                    = var.project_id
  message_retention_duration = local.message_retention

  depends_on = [google_project_service.apis]
}

resource "google_pubsub_topic" "alerts" {
  #checkov:skip=CKV_GCP_83:Alert messages hold rule ids and numbers, not data; Google-managed encryption is used.
  name                       = "${var.prefix}-alerts"
  project                    = var.project_id
  message_retention_duration = local.message_retention

  depends_on = [google_project_service.apis]
}

resource "google_pubsub_topic" "dead_letter" {
  #checkov:skip=CKV_GCP_83:Holds copies of result messages only; Google-managed encryption is used.
  name                       = "${var.prefix}-dead-letter"
  project                    = var.project_id
  message_retention_duration = local.message_retention

  depends_on = [google_project_service.apis]
}

# Messages published to a topic without subscriptions are lost: this one keeps dead letters readable.
resource "google_pubsub_subscription" "dead_letter" {
  name                       = "${var.prefix}-dead-letter-tap"
  project                    = var.project_id
  topic                      = google_pubsub_topic.dead_letter.id
  ack_deadline_seconds       = 60
  message_retention_duration = local.message_retention
  retain_acked_messages      = false

  expiration_policy {
    ttl = "" # never expires, even when nobody reads it for weeks
  }
}

# Delivers result messages to the report function. The endpoint path /projects/P/topics/T makes
# functions-framework fill the CloudEvent source with the full topic name.
resource "google_pubsub_subscription" "report" {
  name                       = "${var.prefix}-report-push"
  project                    = var.project_id
  topic                      = google_pubsub_topic.results.id
  message_retention_duration = local.message_retention
  # A push is acknowledged by the HTTP response: the deadline must cover a whole report run.
  ack_deadline_seconds = min(600, var.report_function.timeout_seconds + 60)

  push_config {
    push_endpoint = "${local.report_uri}/${google_pubsub_topic.results.id}"

    # Projects created after April 2021 need no extra grant for Pub/Sub to mint this token; older
    # ones must give the Pub/Sub service agent roles/iam.serviceAccountTokenCreator on this account.
    oidc_token {
      service_account_email = google_service_account.push.email
      # Cloud Run checks the audience against the service URL, not the URL with a path.
      audience = local.report_uri
    }
  }

  retry_policy {
    minimum_backoff = "${var.retry_backoff_seconds.minimum}s"
    maximum_backoff = "${var.retry_backoff_seconds.maximum}s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter.id
    max_delivery_attempts = var.max_delivery_attempts
  }

  expiration_policy {
    ttl = ""
  }

  depends_on = [
    google_cloud_run_service_iam_member.push_invokes_report,
    google_pubsub_topic_iam_member.pubsub_agent_dead_letters,
  ]
}

# For people and scripts: every result message, to pull and read (gcloud pubsub subscriptions pull).
resource "google_pubsub_subscription" "results_tap" {
  name                       = "${var.prefix}-results-tap"
  project                    = var.project_id
  topic                      = google_pubsub_topic.results.id
  ack_deadline_seconds       = 60
  message_retention_duration = local.message_retention

  expiration_policy {
    ttl = ""
  }
}

# Only critical alerts, for a pager or an on-call script.
resource "google_pubsub_subscription" "alerts_critical" {
  name                       = "${var.prefix}-alerts-critical"
  project                    = var.project_id
  topic                      = google_pubsub_topic.alerts.id
  ack_deadline_seconds       = 60
  message_retention_duration = local.message_retention
  filter                     = "attributes.severity = \"critical\""

  expiration_policy {
    ttl = ""
  }
}

# Optional: new (non-repeat) warning and critical alerts pushed to a webhook as the raw JSON body (no
# Pub/Sub envelope), attributes as x-goog-pubsub-* headers, so a chat or incident tool can take it as
# it is and hears about each problem once per repeat window. Filters are those of shared/alert_filters.py.
resource "google_pubsub_subscription" "alerts_webhook" {
  count = var.alerts_webhook_url == "" ? 0 : 1

  name                       = "${var.prefix}-alerts-webhook"
  project                    = var.project_id
  topic                      = google_pubsub_topic.alerts.id
  ack_deadline_seconds       = 30
  message_retention_duration = local.message_retention
  filter                     = "(attributes.severity = \"critical\" OR attributes.severity = \"warning\") AND attributes.repeat = \"false\""

  push_config {
    push_endpoint = var.alerts_webhook_url

    no_wrapper {
      write_metadata = true
    }
  }

  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  expiration_policy {
    ttl = ""
  }
}
