# Inputs, in alphabetical order. Only project_id and region are required; every default is safe for a
# first deploy into a new project (nothing runs, and nothing is billed but storage, while idle).

variable "alert_notification_channels" {
  description = "Cloud Monitoring notification channel IDs (projects/P/notificationChannels/N) the alert policies notify. Empty: incidents are only shown in the console."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.alert_notification_channels : can(regex("^projects/[^/]+/notificationChannels/[^/]+$", c))])
    error_message = "Each channel must be a full ID: projects/PROJECT/notificationChannels/ID."
  }
}

variable "alerts_webhook_url" {
  description = "HTTPS endpoint that receives every alert message (raw JSON body, attributes as headers). Empty: no push subscription is created."
  type        = string
  default     = ""

  validation {
    condition     = var.alerts_webhook_url == "" || startswith(var.alerts_webhook_url, "https://")
    error_message = "alerts_webhook_url must be empty or start with https://."
  }
}

variable "analyst" {
  description = "Which analyst writes the analysis: gemini (Gemini on Vertex AI, billed per token), local (deterministic pandas code, no model) or auto (Gemini when configured, else local). Sets ANALYST."
  type        = string
  default     = "auto"

  validation {
    condition     = contains(["auto", "local", "gemini"], var.analyst)
    error_message = "analyst must be auto, local or gemini."
  }
}

variable "analyze_function" {
  description = "Sizing of the analyze function. timeout_seconds is capped at 540 (the limit for event-driven functions); the analysis budget (ANALYSIS_DEADLINE_S) is the timeout minus 120 s so a run can still publish its result."
  type = object({
    available_cpu    = optional(string, "1")
    available_memory = optional(string, "2Gi")
    concurrency      = optional(number, 1)
    max_instances    = optional(number, 5)
    timeout_seconds  = optional(number, 540)
  })
  default = {}

  validation {
    condition     = var.analyze_function.timeout_seconds >= 180 && var.analyze_function.timeout_seconds <= 540
    error_message = "analyze_function.timeout_seconds must be between 180 and 540."
  }
  validation {
    condition     = var.analyze_function.max_instances >= 1 && var.analyze_function.max_instances <= 100
    error_message = "analyze_function.max_instances must be between 1 and 100."
  }
  validation {
    # One analysis uses a whole core and runs a sandboxed subprocess: more than one per instance only
    # makes sense with more CPUs, and Cloud Run requires at least 1 CPU for any concurrency above 1.
    condition     = var.analyze_function.concurrency >= 1 && var.analyze_function.concurrency <= 4
    error_message = "analyze_function.concurrency must be between 1 and 4."
  }
  validation {
    # Cloud Run: below 1 vCPU the maximum concurrency must be 1 (above 1, vCPUs are whole numbers).
    condition     = var.analyze_function.concurrency == 1 || try((endswith(var.analyze_function.available_cpu, "m") ? tonumber(trimsuffix(var.analyze_function.available_cpu, "m")) / 1000 : tonumber(var.analyze_function.available_cpu)) >= 1, false)
    error_message = "analyze_function.concurrency above 1 needs available_cpu of at least 1 (Cloud Run allows concurrency > 1 only with >= 1 vCPU)."
  }
  validation {
    condition     = can(regex("^[0-9]+(Mi|Gi|M|G)$", var.analyze_function.available_memory))
    error_message = "analyze_function.available_memory must look like 512Mi, 2Gi, 1G."
  }
}

variable "force_destroy" {
  description = "Let terraform destroy delete the buckets even when they still hold objects (inputs, reports, source archives). Keep false unless you are tearing down a trial."
  type        = bool
  default     = false
}

variable "gemini_location" {
  description = "Vertex AI location of the Gemini endpoint (GOOGLE_CLOUD_LOCATION for the SDK). global serves the newest models; a region keeps requests in that region."
  type        = string
  default     = "global"

  validation {
    condition     = can(regex("^(global|[a-z]+-[a-z]+[0-9]+)$", var.gemini_location))
    error_message = "gemini_location must be global or a region such as us-central1."
  }
}

variable "gemini_model" {
  description = "Gemini model name used by the gemini analyst (GEMINI_MODEL)."
  type        = string
  default     = "gemini-3.8-flash"

  validation {
    condition     = can(regex("^gemini-[a-z0-9.-]+$", var.gemini_model))
    error_message = "gemini_model must be a Gemini model name such as gemini-2.5-flash."
  }
}

variable "input_retention_days" {
  description = "Days after which uploaded input files are deleted from the input bucket (they have been analysed long before). 0 keeps them forever."
  type        = number
  default     = 30

  validation {
    condition     = var.input_retention_days >= 0 && floor(var.input_retention_days) == var.input_retention_days
    error_message = "input_retention_days must be a whole number >= 0."
  }
}

variable "kms_key_name" {
  description = "Optional Cloud KMS key (projects/P/locations/L/keyRings/R/cryptoKeys/K, in the bucket region) used as the default key of the three buckets. Empty: Google-managed encryption."
  type        = string
  default     = ""

  validation {
    condition     = var.kms_key_name == "" || can(regex("^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$", var.kms_key_name))
    error_message = "kms_key_name must be empty or projects/P/locations/L/keyRings/R/cryptoKeys/K."
  }
}

variable "labels" {
  description = "Labels added to every resource that supports them."
  type        = map(string)
  default     = { app = "csv-insights" }

  validation {
    condition     = alltrue([for k, v in var.labels : can(regex("^[a-z][a-z0-9_-]{0,62}$", k)) && can(regex("^[a-z0-9_-]{0,63}$", v))])
    error_message = "Label keys must start with a lowercase letter; keys and values may hold lowercase letters, digits, _ and - (63 characters at most)."
  }
}

variable "max_delivery_attempts" {
  description = "Deliveries of one result message to the report function before it moves to the dead-letter topic (Pub/Sub allows 5 to 100)."
  type        = number
  default     = 10

  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "max_delivery_attempts must be between 5 and 100."
  }
}

variable "message_retention_days" {
  description = "Days Pub/Sub keeps messages on the topics and subscriptions (unacknowledged messages, replay). 1 to 7."
  type        = number
  default     = 7

  validation {
    condition     = var.message_retention_days >= 1 && var.message_retention_days <= 7
    error_message = "message_retention_days must be between 1 and 7."
  }
}

variable "noncurrent_version_retention_days" {
  description = "Days an overwritten or deleted object version is kept (object versioning protects reports and inputs against accidental overwrites)."
  type        = number
  default     = 7

  validation {
    condition     = var.noncurrent_version_retention_days >= 1
    error_message = "noncurrent_version_retention_days must be at least 1."
  }
}

variable "prefix" {
  description = "Short name put in front of every resource (functions, topics, service accounts, buckets), so two deployments can share a project. Lowercase letters, digits and dashes."
  type        = string
  default     = "csv-insights"

  validation {
    # Service account IDs are limited to 30 characters: prefix + "-analyze" must fit.
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}[a-z0-9]$", var.prefix))
    error_message = "prefix must be 3-22 characters: lowercase letters, digits and dashes, starting with a letter."
  }
}

variable "project_id" {
  description = "ID of the Google Cloud project to deploy into (its billing must be enabled)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a project ID (6-30 lowercase letters, digits, dashes), not a name or number."
  }
}

variable "python_runtime" {
  description = "Cloud Functions Python runtime of both functions."
  type        = string
  default     = "python312"

  validation {
    condition     = contains(["python311", "python312", "python313"], var.python_runtime)
    error_message = "python_runtime must be python311, python312 or python313."
  }
}

variable "region" {
  description = "Region of the functions, the buckets and the Eventarc trigger (the input bucket must be in the trigger's region), e.g. europe-west1."
  type        = string

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a single region such as us-central1 (not a multi-region)."
  }
}

variable "report_function" {
  description = "Sizing of the report function (renders Markdown, a notebook and copies charts: light work)."
  type = object({
    available_cpu    = optional(string, "1")
    available_memory = optional(string, "1Gi")
    concurrency      = optional(number, 1)
    max_instances    = optional(number, 5)
    timeout_seconds  = optional(number, 300)
  })
  default = {}

  validation {
    # The push subscription's ack deadline (max 600 s) must cover a whole run.
    condition     = var.report_function.timeout_seconds >= 60 && var.report_function.timeout_seconds <= 540
    error_message = "report_function.timeout_seconds must be between 60 and 540."
  }
  validation {
    condition     = var.report_function.max_instances >= 1 && var.report_function.max_instances <= 100
    error_message = "report_function.max_instances must be between 1 and 100."
  }
  validation {
    condition     = var.report_function.concurrency >= 1 && var.report_function.concurrency <= 8
    error_message = "report_function.concurrency must be between 1 and 8."
  }
  validation {
    # Cloud Run: below 1 vCPU the maximum concurrency must be 1 (above 1, vCPUs are whole numbers).
    condition     = var.report_function.concurrency == 1 || try((endswith(var.report_function.available_cpu, "m") ? tonumber(trimsuffix(var.report_function.available_cpu, "m")) / 1000 : tonumber(var.report_function.available_cpu)) >= 1, false)
    error_message = "report_function.concurrency above 1 needs available_cpu of at least 1 (Cloud Run allows concurrency > 1 only with >= 1 vCPU)."
  }
  validation {
    condition     = can(regex("^[0-9]+(Mi|Gi|M|G)$", var.report_function.available_memory))
    error_message = "report_function.available_memory must look like 512Mi, 1Gi, 1G."
  }
}

variable "report_retention_days" {
  description = "Days after which objects in the reports bucket (reports, charts, analysis.json, and the alert rules' _state files, which then start over) are deleted. 0 keeps them forever."
  type        = number
  default     = 0

  validation {
    condition     = var.report_retention_days >= 0 && floor(var.report_retention_days) == var.report_retention_days
    error_message = "report_retention_days must be a whole number >= 0."
  }
}

variable "retry_backoff_seconds" {
  description = "Backoff between redeliveries of a result message the report function failed on (Pub/Sub retry policy, 0-600 s each)."
  type = object({
    minimum = optional(number, 10)
    maximum = optional(number, 600)
  })
  default = {}

  validation {
    condition     = var.retry_backoff_seconds.minimum >= 0 && var.retry_backoff_seconds.minimum <= var.retry_backoff_seconds.maximum && var.retry_backoff_seconds.maximum <= 600
    error_message = "retry_backoff_seconds needs 0 <= minimum <= maximum <= 600."
  }
}

variable "setting_overrides" {
  description = "Values for the functions' tunable settings, by environment variable name (e.g. { MAX_FILE_BYTES = \"104857600\", LOG_LEVEL = \"DEBUG\" }). Names must be settings the code reads; see shared/settings.py."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.setting_overrides) : can(regex("^[A-Z][A-Z0-9_]*$", k))])
    error_message = "setting_overrides keys are environment variable names such as MAX_FILE_BYTES."
  }
}
