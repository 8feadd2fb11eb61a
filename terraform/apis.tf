# APIs the pipeline uses. They stay enabled on destroy: other workloads in the project may rely on them,
# and disabling an API can delete that service's resources project-wide.

locals {
  services = toset([
    "aiplatform.googleapis.com",       # Gemini on Vertex AI (the gemini analyst)
    "artifactregistry.googleapis.com", # function container images
    "cloudbuild.googleapis.com",       # builds the functions from their source archives
    "cloudfunctions.googleapis.com",
    "eventarc.googleapis.com", # the input bucket trigger
    "iam.googleapis.com",      # service accounts
    "logging.googleapis.com",  # log-based metric
    "monitoring.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com", # 2nd gen functions run as Cloud Run services
    "storage.googleapis.com",
  ])
}

resource "google_project_service" "apis" {
  for_each = local.services

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

# The project number names the Google-managed service agents that need roles below.
data "google_project" "this" {
  project_id = var.project_id

  depends_on = [google_project_service.apis]
}
