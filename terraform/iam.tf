# One service account per job, each with only what it uses, granted on the resource where the
# resource has its own IAM policy (bucket, topic, subscription, Cloud Run service, repository).
# Project-level grants are only the roles that exist nowhere else (Vertex AI use, Eventarc event
# receiving, build log writing, the GCS agent's publishing of bucket events).

resource "google_service_account" "analyze" {
  project      = var.project_id
  account_id   = "${var.prefix}-analyze"
  display_name = "csv-insights analyze function"
  description  = "Reads CSV files from the input bucket, calls Gemini, writes charts, publishes results and alerts."

  depends_on = [google_project_service.apis]
}

resource "google_service_account" "report" {
  project      = var.project_id
  account_id   = "${var.prefix}-report"
  display_name = "csv-insights report function"
  description  = "Writes Markdown reports, notebooks and analysis.json into the reports bucket."

  depends_on = [google_project_service.apis]
}

resource "google_service_account" "trigger" {
  project      = var.project_id
  account_id   = "${var.prefix}-trigger"
  display_name = "csv-insights Eventarc trigger"
  description  = "Identity of the input bucket trigger: receives Eventarc events and invokes the analyze function."

  depends_on = [google_project_service.apis]
}

resource "google_service_account" "push" {
  project      = var.project_id
  account_id   = "${var.prefix}-push"
  display_name = "csv-insights result push"
  description  = "Identity in the OIDC token Pub/Sub attaches when it pushes result messages to the report function."

  depends_on = [google_project_service.apis]
}

resource "google_service_account" "build" {
  project      = var.project_id
  account_id   = "${var.prefix}-build"
  display_name = "csv-insights function builds"
  description  = "Cloud Build identity for building both functions (new projects' default build account lacks these rights)."

  depends_on = [google_project_service.apis]
}

# --- analyze function ---------------------------------------------------------------------------

resource "google_storage_bucket_iam_member" "analyze_reads_input" {
  bucket = google_storage_bucket.input.name
  role   = "roles/storage.objectViewer"
  member = google_service_account.analyze.member
}

# Charts under reports/<dataset>/<run_id>/charts/ and the run markers that make redeliveries idempotent
# (create, read and replace objects in this bucket only).
resource "google_storage_bucket_iam_member" "analyze_writes_reports" {
  bucket = google_storage_bucket.reports.name
  role   = "roles/storage.objectAdmin"
  member = google_service_account.analyze.member
}

resource "google_pubsub_topic_iam_member" "analyze_publishes_results" {
  project = var.project_id
  topic   = google_pubsub_topic.results.name
  role    = "roles/pubsub.publisher"
  member  = google_service_account.analyze.member
}

resource "google_pubsub_topic_iam_member" "analyze_publishes_alerts" {
  project = var.project_id
  topic   = google_pubsub_topic.alerts.name
  role    = "roles/pubsub.publisher"
  member  = google_service_account.analyze.member
}

# Calling Gemini on Vertex AI (aiplatform.endpoints.predict); Vertex AI has no narrower resource to grant on.
resource "google_project_iam_member" "analyze_uses_vertex" {
  project = var.project_id
  role    = "roles/aiplatform.user"
  member  = google_service_account.analyze.member
}

# --- report function ----------------------------------------------------------------------------

resource "google_storage_bucket_iam_member" "report_writes_reports" {
  bucket = google_storage_bucket.reports.name
  role   = "roles/storage.objectAdmin"
  member = google_service_account.report.member
}

# --- Eventarc trigger of the analyze function ---------------------------------------------------

resource "google_project_iam_member" "trigger_receives_events" {
  project = var.project_id
  role    = "roles/eventarc.eventReceiver"
  member  = google_service_account.trigger.member
}

# A 2nd gen function is a Cloud Run service of the same name: run.invoker is granted on that service.
resource "google_cloud_run_service_iam_member" "trigger_invokes_analyze" {
  project  = var.project_id
  location = google_cloudfunctions2_function.analyze.location
  service  = google_cloudfunctions2_function.analyze.name
  role     = "roles/run.invoker"
  member   = google_service_account.trigger.member
}

# Cloud Storage publishes bucket events to Eventarc's Pub/Sub transport as its service agent.
resource "google_project_iam_member" "gcs_agent_publishes_events" {
  project = var.project_id
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${local.gcs_service_agent}"
}

# --- result push to the report function ---------------------------------------------------------

resource "google_cloud_run_service_iam_member" "push_invokes_report" {
  project  = var.project_id
  location = google_cloudfunctions2_function.report.location
  service  = google_cloudfunctions2_function.report.name
  role     = "roles/run.invoker"
  member   = google_service_account.push.member
}

# Dead-lettering is done by the Pub/Sub service agent: it publishes to the dead-letter topic and
# must be able to acknowledge on the source subscription.
resource "google_pubsub_topic_iam_member" "pubsub_agent_dead_letters" {
  project = var.project_id
  topic   = google_pubsub_topic.dead_letter.name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${local.pubsub_agent}"
}

resource "google_pubsub_subscription_iam_member" "pubsub_agent_acks_report" {
  project      = var.project_id
  subscription = google_pubsub_subscription.report.name
  role         = "roles/pubsub.subscriber"
  member       = "serviceAccount:${local.pubsub_agent}"
}

# --- builds -------------------------------------------------------------------------------------

resource "google_project_iam_member" "build_writes_logs" {
  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = google_service_account.build.member
}

resource "google_storage_bucket_iam_member" "build_reads_source" {
  bucket = google_storage_bucket.source.name
  role   = "roles/storage.objectViewer"
  member = google_service_account.build.member
}

resource "google_artifact_registry_repository_iam_member" "build_pushes_images" {
  project    = var.project_id
  location   = google_artifact_registry_repository.functions.location
  repository = google_artifact_registry_repository.functions.name
  role       = "roles/artifactregistry.writer"
  member     = google_service_account.build.member
}

# IAM grants take a minute or two to reach every Google service. Without this pause the first apply
# in a new project typically fails creating the Eventarc trigger ("the Cloud Storage service account
# is unable to publish to Pub/Sub") or the first build (permission denied on the repository).
resource "time_sleep" "iam_propagation" {
  create_duration = "90s"

  triggers = {
    gcs_agent = google_project_iam_member.gcs_agent_publishes_events.id
    receiver  = google_project_iam_member.trigger_receives_events.id
    logs      = google_project_iam_member.build_writes_logs.id
    source    = google_storage_bucket_iam_member.build_reads_source.id
    images    = google_artifact_registry_repository_iam_member.build_pushes_images.id
  }
}
