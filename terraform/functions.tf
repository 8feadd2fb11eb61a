# The two functions, built by Cloud Build from source archives that Terraform makes from this
# repository. Each archive holds the function's entry file as main.py, the shared package and
# requirements.txt; its object name carries the archive's MD5, so any code change uploads a new
# object and redeploys the function, and an unchanged tree changes nothing.
#
# scripts/build_archives.py reads archive_include below (the single source of truth) and builds the
# same file list, which the tests extract, install and boot.

locals {
  repo_root = abspath("${path.module}/..")

  # Files of the shared package that go into every archive, relative to the repository root.
  # Only text files: archive_file reads them with file(). A test fails when shared/ holds a file
  # that no pattern covers, so nothing the code loads can silently stay behind.
  archive_include = [
    "shared/**/*.py",
    "shared/**/*.json",
    "shared/**/*.yaml",
    "shared/**/*.yml",
    "shared/**/*.md",
    "shared/**/*.txt",
  ]

  # Entry point (the decorated function in functions/<name>/main.py) of each function.
  functions = {
    analyze = { entry_point = "analyze" }
    report  = { entry_point = "report" }
  }

  shared_files = sort(distinct(flatten([
    for pattern in local.archive_include : [
      for f in fileset(local.repo_root, pattern) : f if !strcontains(f, "__pycache__")
    ]
  ])))

  # archive path => repository path, per function.
  archive_files = {
    for name in keys(local.functions) : name => merge(
      { for f in local.shared_files : f => f },
      {
        "main.py"          = "functions/${name}/main.py"
        "requirements.txt" = "requirements.txt"
      },
    )
  }

  # Every setting shared/settings.py reads, with the value this deployment gives it. Both functions
  # get the same set (the code reads one Settings for both); a test checks the names against
  # shared.settings.env_names().
  settings_env = {
    GOOGLE_CLOUD_PROJECT     = var.project_id
    INPUT_BUCKET             = google_storage_bucket.input.name
    REPORTS_BUCKET           = google_storage_bucket.reports.name
    REPORTS_PREFIX           = local.reports_prefix
    RESULTS_TOPIC            = google_pubsub_topic.results.name
    ALERTS_TOPIC             = google_pubsub_topic.alerts.name
    ANALYST                  = var.analyst
    GEMINI_MODEL             = var.gemini_model
    GEMINI_REQUEST_TIMEOUT_S = lookup(var.setting_overrides, "GEMINI_REQUEST_TIMEOUT_S", "120")
    # Leaves two minutes of the function timeout to store charts and publish the result.
    ANALYSIS_DEADLINE_S = lookup(var.setting_overrides, "ANALYSIS_DEADLINE_S", tostring(var.analyze_function.timeout_seconds - 120))
    PROMPT_BUDGET_BYTES = lookup(var.setting_overrides, "PROMPT_BUDGET_BYTES", "200000")
    MAX_FILE_BYTES      = lookup(var.setting_overrides, "MAX_FILE_BYTES", "1073741824")
    # Above this, DuckDB profiles the object as a stream in bounded memory and the analyst gets a sample.
    LARGE_FILE_BYTES       = lookup(var.setting_overrides, "LARGE_FILE_BYTES", "67108864")
    MAX_DECOMPRESSED_BYTES = lookup(var.setting_overrides, "MAX_DECOMPRESSED_BYTES", "2147483648")
    MAX_COLUMNS            = lookup(var.setting_overrides, "MAX_COLUMNS", "500")
    MAX_CELL_CHARS         = lookup(var.setting_overrides, "MAX_CELL_CHARS", "100000")
    SANDBOX_CELL_TIMEOUT_S = lookup(var.setting_overrides, "SANDBOX_CELL_TIMEOUT_S", "30")
    SANDBOX_MEMORY_MB      = lookup(var.setting_overrides, "SANDBOX_MEMORY_MB", "1024")
    DATA_SUFFIXES          = lookup(var.setting_overrides, "DATA_SUFFIXES", ".csv,.tsv,.txt,.csv.gz,.tsv.gz")
    # Eventarc redelivers a failing event for up to 24 hours; after this age the code drops it.
    EVENT_MAX_AGE_S = lookup(var.setting_overrides, "EVENT_MAX_AGE_S", "21600")
    # A run's claim must outlive the longest run (the function timeout), or a slow run could be
    # taken over by a redelivery while it is still writing.
    RUN_LEASE_S           = lookup(var.setting_overrides, "RUN_LEASE_S", tostring(var.analyze_function.timeout_seconds + 60))
    ALERT_RULES           = lookup(var.setting_overrides, "ALERT_RULES", "")
    ALERT_REPEAT_WINDOW_S = lookup(var.setting_overrides, "ALERT_REPEAT_WINDOW_S", "86400")
    LOG_LEVEL             = lookup(var.setting_overrides, "LOG_LEVEL", "INFO")
  }

  # Variables the google-genai SDK itself reads (not settings): Gemini through Vertex AI in this
  # project, authenticated as the analyze service account. Only the analyze function calls Gemini.
  genai_sdk_env = {
    GOOGLE_GENAI_USE_VERTEXAI = "true"
    GOOGLE_CLOUD_LOCATION     = var.gemini_location
  }

  reports_prefix = "reports/"
}

data "archive_file" "source" {
  for_each = local.functions

  type        = "zip"
  output_path = "${path.module}/.build/${each.key}.zip"

  dynamic "source" {
    for_each = local.archive_files[each.key]
    content {
      filename = source.key
      content  = file("${local.repo_root}/${source.value}")
    }
  }
}

resource "google_storage_bucket_object" "source" {
  for_each = local.functions

  name         = "${each.key}-${data.archive_file.source[each.key].output_md5}.zip"
  bucket       = google_storage_bucket.source.name
  source       = data.archive_file.source[each.key].output_path
  content_type = "application/zip"
}

# Function images live in our own repository, so the build account needs rights on it alone and old
# images are cleaned up (storage at rest stays small).
resource "google_artifact_registry_repository" "functions" {
  #checkov:skip=CKV_GCP_84:Holds only the functions' images (this repository's code and open-source packages), no user data.
  project       = var.project_id
  location      = var.region
  repository_id = "${var.prefix}-functions"
  description   = "Container images of the csv-insights functions."
  format        = "DOCKER"

  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"
    most_recent_versions {
      keep_count = 3
    }
  }

  cleanup_policies {
    id     = "delete-old"
    action = "DELETE"
    condition {
      older_than = "604800s"
    }
  }

  depends_on = [google_project_service.apis]
}

resource "google_cloudfunctions2_function" "analyze" {
  name        = "${var.prefix}-analyze"
  project     = var.project_id
  location    = var.region
  description = "Analyses each CSV file dropped into ${google_storage_bucket.input.name}."

  build_config {
    runtime           = var.python_runtime
    entry_point       = local.functions.analyze.entry_point
    service_account   = google_service_account.build.id
    docker_repository = google_artifact_registry_repository.functions.id

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source["analyze"].name
      }
    }
  }

  service_config {
    available_cpu                    = var.analyze_function.available_cpu
    available_memory                 = var.analyze_function.available_memory
    timeout_seconds                  = var.analyze_function.timeout_seconds
    max_instance_count               = var.analyze_function.max_instances
    min_instance_count               = 0 # nothing runs, nothing is billed, while no file arrives
    max_instance_request_concurrency = var.analyze_function.concurrency
    service_account_email            = google_service_account.analyze.email
    ingress_settings                 = "ALLOW_INTERNAL_ONLY" # Eventarc counts as internal
    all_traffic_on_latest_revision   = true
    environment_variables            = merge(local.settings_env, local.genai_sdk_env)
  }

  event_trigger {
    trigger_region        = var.region
    event_type            = "google.cloud.storage.object.v1.finalized"
    service_account_email = google_service_account.trigger.email
    # Retry on purpose: the code raises only for transient errors (429, 5xx, timeouts) and acks
    # permanent ones with a failure report, so a retry can only help; the event-age guard
    # (EVENT_MAX_AGE_S) stops a retry loop well inside Eventarc's 24 h window.
    retry_policy = "RETRY_POLICY_RETRY"

    event_filters {
      attribute = "bucket"
      value     = google_storage_bucket.input.name
    }
  }

  lifecycle {
    precondition {
      # An override takes effect only for tunable settings; names the code does not read, and
      # settings Terraform derives (buckets, topics, project, analyst, model), are refused.
      condition     = alltrue([for k, v in var.setting_overrides : try(local.settings_env[k], null) == v])
      error_message = "setting_overrides may only set tunable settings of shared/settings.py (not buckets, topics, project, ANALYST or GEMINI_MODEL, which have their own variables)."
    }
    precondition {
      condition     = google_storage_bucket.input.name != google_storage_bucket.reports.name
      error_message = "The input and reports buckets must differ: a report written to the input bucket would trigger a new analysis."
    }
  }

  # The GCS agent's publisher role, the trigger's event receiver role and the build account's roles
  # must be in effect before the trigger and the first build are created.
  depends_on = [time_sleep.iam_propagation]
}

# No event_trigger: google_pubsub_subscription.report pushes result messages to this function with a
# retry and dead-letter policy (see pubsub.tf).
resource "google_cloudfunctions2_function" "report" {
  name        = "${var.prefix}-report"
  project     = var.project_id
  location    = var.region
  description = "Writes the report of each result message into ${google_storage_bucket.reports.name}."

  build_config {
    runtime           = var.python_runtime
    entry_point       = local.functions.report.entry_point
    service_account   = google_service_account.build.id
    docker_repository = google_artifact_registry_repository.functions.id

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source["report"].name
      }
    }
  }

  service_config {
    available_cpu                    = var.report_function.available_cpu
    available_memory                 = var.report_function.available_memory
    timeout_seconds                  = var.report_function.timeout_seconds
    max_instance_count               = var.report_function.max_instances
    min_instance_count               = 0
    max_instance_request_concurrency = var.report_function.concurrency
    service_account_email            = google_service_account.report.email
    ingress_settings                 = "ALLOW_INTERNAL_ONLY" # Pub/Sub push from this project counts as internal
    all_traffic_on_latest_revision   = true
    environment_variables            = local.settings_env
  }

  depends_on = [time_sleep.iam_propagation]
}
