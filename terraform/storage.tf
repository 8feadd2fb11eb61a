# Three buckets, all regional (the Eventarc trigger must be in the input bucket's region), private
# (uniform access, public access prevention enforced) and optionally encrypted with a customer key.
# Reports never go to the input bucket: a report there would trigger a new analysis.

locals {
  # Project IDs are globally unique, so prefix + project ID makes bucket names unique without a random suffix.
  bucket_base = "${var.prefix}-${var.project_id}"

  # The Cloud Storage service agent; it must be able to use the CMEK key and publishes bucket events.
  gcs_service_agent = data.google_storage_project_service_account.gcs.email_address
}

data "google_storage_project_service_account" "gcs" {
  project = var.project_id

  depends_on = [google_project_service.apis]
}

resource "google_storage_bucket" "input" {
  #checkov:skip=CKV_GCP_62:Access logs would go to yet another bucket; Cloud Audit Logs (Data Access) cover who read what.
  name                        = "${local.bucket_base}-input"
  project                     = var.project_id
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.force_destroy

  # Versioning keeps an overwritten upload recoverable; each generation is analysed once.
  versioning {
    enabled = true
  }

  dynamic "lifecycle_rule" {
    for_each = var.input_retention_days > 0 ? [1] : []
    content {
      condition {
        age = var.input_retention_days
      }
      action {
        type = "Delete"
      }
    }
  }

  lifecycle_rule {
    condition {
      days_since_noncurrent_time = var.noncurrent_version_retention_days
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  dynamic "encryption" {
    for_each = var.kms_key_name == "" ? [] : [var.kms_key_name]
    content {
      default_kms_key_name = encryption.value
    }
  }

  depends_on = [google_project_service.apis, google_kms_crypto_key_iam_member.gcs]
}

resource "google_storage_bucket" "reports" {
  #checkov:skip=CKV_GCP_62:Access logs would go to yet another bucket; Cloud Audit Logs (Data Access) cover who read what.
  name                        = "${local.bucket_base}-reports"
  project                     = var.project_id
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.force_destroy

  # latest.md is overwritten on every run; versioning keeps the previous pointer and any report
  # deleted by mistake for noncurrent_version_retention_days.
  versioning {
    enabled = true
  }

  dynamic "lifecycle_rule" {
    for_each = var.report_retention_days > 0 ? [1] : []
    content {
      condition {
        age = var.report_retention_days
      }
      action {
        type = "Delete"
      }
    }
  }

  lifecycle_rule {
    condition {
      days_since_noncurrent_time = var.noncurrent_version_retention_days
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  dynamic "encryption" {
    for_each = var.kms_key_name == "" ? [] : [var.kms_key_name]
    content {
      default_kms_key_name = encryption.value
    }
  }

  depends_on = [google_project_service.apis, google_kms_crypto_key_iam_member.gcs]
}

resource "google_storage_bucket" "source" {
  #checkov:skip=CKV_GCP_62:Access logs would go to yet another bucket; only Cloud Build reads this one.
  name                        = "${local.bucket_base}-source"
  project                     = var.project_id
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.force_destroy

  # Archives are named by content hash and never overwritten; versioning only guards deletions.
  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      days_since_noncurrent_time = var.noncurrent_version_retention_days
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  dynamic "encryption" {
    for_each = var.kms_key_name == "" ? [] : [var.kms_key_name]
    content {
      default_kms_key_name = encryption.value
    }
  }

  depends_on = [google_project_service.apis, google_kms_crypto_key_iam_member.gcs]
}

# With CMEK, Cloud Storage encrypts as its service agent: it needs the key before a bucket uses it.
resource "google_kms_crypto_key_iam_member" "gcs" {
  count = var.kms_key_name == "" ? 0 : 1

  crypto_key_id = var.kms_key_name
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = "serviceAccount:${local.gcs_service_agent}"
}
