output "alerts_critical_subscription" {
  description = "Pull subscription with only critical alerts."
  value       = google_pubsub_subscription.alerts_critical.name
}

output "alerts_topic" {
  description = "Topic of alert messages (one per fired rule)."
  value       = google_pubsub_topic.alerts.name
}

output "analyze_function" {
  description = "Name of the analyze function (2nd gen; also its Cloud Run service name)."
  value       = google_cloudfunctions2_function.analyze.name
}

output "dead_letter_subscription" {
  description = "Pull subscription of result messages the report function gave up on."
  value       = google_pubsub_subscription.dead_letter.name
}

output "dead_letter_topic" {
  description = "Dead-letter topic of the report subscription."
  value       = google_pubsub_topic.dead_letter.name
}

output "input_bucket" {
  description = "Bucket to drop CSV files into."
  value       = google_storage_bucket.input.name
}

output "read_results_command" {
  description = "Prints (and acknowledges) waiting result messages."
  value       = "gcloud pubsub subscriptions pull ${google_pubsub_subscription.results_tap.name} --project ${var.project_id} --auto-ack --limit 10 --format=json"
}

output "report_function" {
  description = "Name of the report function."
  value       = google_cloudfunctions2_function.report.name
}

output "reports_bucket" {
  description = "Bucket the reports are written to."
  value       = google_storage_bucket.reports.name
}

output "reports_location" {
  description = "Where reports land: <prefix><dataset-slug>/<run_id>/report.md, and <dataset-slug>/latest.md."
  value       = "gs://${google_storage_bucket.reports.name}/${local.reports_prefix}"
}

output "results_tap_subscription" {
  description = "Pull subscription with every result message, for people and scripts."
  value       = google_pubsub_subscription.results_tap.name
}

output "results_topic" {
  description = "Topic of result messages."
  value       = google_pubsub_topic.results.name
}

output "source_bucket" {
  description = "Bucket holding the functions' source archives."
  value       = google_storage_bucket.source.name
}

output "try_it_command" {
  description = "Ready-to-paste upload of a CSV file; its report appears under reports_location a minute later."
  value       = "gcloud storage cp data.csv gs://${google_storage_bucket.input.name}/"
}
