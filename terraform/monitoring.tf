# Every run ends with one JSON log line {"event": "run_finished", "outcome": ..., "error_code": ...}.
# 2nd gen functions run on Cloud Run, so their logs carry resource.type "cloud_run_revision" and the
# service name is the function name.

resource "google_logging_metric" "failed_analyses" {
  project     = var.project_id
  name        = "${var.prefix}-failed-analyses"
  description = "Files the analyze function finished with outcome failed (bad CSV, too large, analyst failure), by error code."
  filter      = <<-EOT
    resource.type="cloud_run_revision"
    AND resource.labels.service_name="${var.prefix}-analyze"
    AND jsonPayload.event="run_finished"
    AND jsonPayload.outcome="failed"
  EOT

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "csv-insights failed analyses"

    labels {
      key         = "error_code"
      value_type  = "STRING"
      description = "The error code of the failed run (shared/errors.py)."
    }
  }

  label_extractors = {
    error_code = "EXTRACT(jsonPayload.error_code)"
  }

  depends_on = [google_project_service.apis]
}

# Cloud Monitoring needs a few minutes to know a new log-based metric; an alert policy created right
# after it fails with "Cannot find metric(s)" (hashicorp/terraform-provider-google#11102).
resource "time_sleep" "metric_registration" {
  create_duration = "120s"

  triggers = {
    metric = google_logging_metric.failed_analyses.id
  }
}

resource "google_monitoring_alert_policy" "failed_analyses" {
  project      = var.project_id
  display_name = "${var.prefix}: failed analyses"
  combiner     = "OR"
  enabled      = true

  conditions {
    display_name = "A file failed analysis"

    condition_threshold {
      filter          = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.failed_analyses.name}\" AND resource.type=\"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.error_code"]
      }

      trigger {
        count = 1
      }
    }
  }

  alert_strategy {
    auto_close = "3600s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "A CSV file dropped into gs://${google_storage_bucket.input.name} could not be analysed. The failure report (with the reason) is under gs://${google_storage_bucket.reports.name}/${local.reports_prefix}; logs: resource.labels.service_name=\"${var.prefix}-analyze\" jsonPayload.event=\"run_finished\"."
  }

  notification_channels = var.alert_notification_channels

  depends_on = [time_sleep.metric_registration]
}

# Crashes and transient failures: the functions answer 5xx (which makes Eventarc and Pub/Sub retry).
resource "google_monitoring_alert_policy" "function_errors" {
  project      = var.project_id
  display_name = "${var.prefix}: function errors"
  combiner     = "OR"
  enabled      = true

  conditions {
    display_name = "Function answered 5xx"

    condition_threshold {
      filter          = "metric.type=\"run.googleapis.com/request_count\" AND resource.type=\"cloud_run_revision\" AND metric.labels.response_code_class=\"5xx\" AND resource.labels.service_name=one_of(\"${google_cloudfunctions2_function.analyze.name}\", \"${google_cloudfunctions2_function.report.name}\")"
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.label.service_name"]
      }

      trigger {
        count = 1
      }
    }
  }

  alert_strategy {
    auto_close = "3600s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "A csv-insights function answered with a server error. Transient errors are retried (analyze: Eventarc; report: Pub/Sub, then the ${google_pubsub_topic.dead_letter.name} topic). Check the function logs for the traceback."
  }

  notification_channels = var.alert_notification_channels
}
