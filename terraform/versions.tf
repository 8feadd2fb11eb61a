terraform {
  # 1.5 brings check blocks and the lifecycle preconditions used here; 1.x is the stable line.
  required_version = ">= 1.5, < 2.0"

  required_providers {
    # archive builds each function's source zip from the repository at plan time.
    archive = {
      source  = "hashicorp/archive"
      version = ">= 2.4, < 3.0"
    }
    # 6.x has every argument used here (build_config.service_account, push_config.no_wrapper,
    # automatic_update_policy); 7.x is accepted because none of them changed shape.
    google = {
      source  = "hashicorp/google"
      version = ">= 6.0, < 8.0"
    }
    # time waits for IAM grants and new log-based metrics to propagate (see iam.tf, monitoring.tf).
    time = {
      source  = "hashicorp/time"
      version = ">= 0.9, < 1.0"
    }
  }
}

provider "google" {
  project = var.project_id
  region  = var.region

  default_labels = var.labels
}
