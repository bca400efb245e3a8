# The permanent infrastructure of one synkti project, the same resources with the same names and
# settings as `synkti infra up` (src/infra/). test/unit/infra/terraform.test.ts keeps the two equal;
# the IAM documents are the very files the CLI uses (policies/*.json).

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.40"
    }
  }
}

provider "aws" {
  region = var.region
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

data "aws_vpc" "default" {
  default = true
}

locals {
  # Names: the same derivations as src/infra/names.ts.
  bucket_name           = "${var.project_name}-models"
  role_name             = "${var.project_name}-synkti-worker"
  instance_profile_name = "${var.project_name}-synkti-worker"
  worker_policy_name    = "${var.project_name}-synkti-worker"
  security_group_name   = "${var.project_name}-synkti-workers"
  checkpoints_prefix    = "checkpoints/"
  tags                  = { SynktiCluster = var.project_name }

  # src/infra/ports.ts and src/infra/desired.ts
  model_server_port      = 8000
  status_port            = 8080
  checkpoint_expiry_days = 7
  abort_multipart_days   = 7
  bucket_encryption      = "AES256"

  # The placeholders of policies/*.json (src/infra/policies.ts PolicyVars).
  policy_vars = {
    partition          = data.aws_partition.current.partition
    region             = var.region
    account_id         = data.aws_caller_identity.current.account_id
    project            = var.project_name
    bucket             = local.bucket_name
    role               = local.role_name
    checkpoints_prefix = local.checkpoints_prefix
  }
}

resource "aws_s3_bucket" "models" {
  bucket = local.bucket_name
  tags   = local.tags
}

resource "aws_s3_bucket_public_access_block" "models" {
  bucket                  = aws_s3_bucket.models.id
  block_public_acls       = true
  ignore_public_acls      = true
  block_public_policy     = true
  restrict_public_buckets = true
}

# SSE-S3: see BUCKET_ENCRYPTION in src/infra/desired.ts for why not SSE-KMS.
resource "aws_s3_bucket_server_side_encryption_configuration" "models" {
  bucket = aws_s3_bucket.models.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = local.bucket_encryption
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "models" {
  bucket = aws_s3_bucket.models.id

  rule {
    id     = "expire-checkpoints"
    status = "Enabled"
    filter {
      prefix = local.checkpoints_prefix
    }
    expiration {
      days = local.checkpoint_expiry_days
    }
  }

  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"
    filter {
      prefix = ""
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = local.abort_multipart_days
    }
  }
}

# TLS only. Applied after the public access block so BlockPublicPolicy judges the final policy.
resource "aws_s3_bucket_policy" "models" {
  bucket     = aws_s3_bucket.models.id
  policy     = templatefile("${path.module}/../policies/bucket-policy.json", local.policy_vars)
  depends_on = [aws_s3_bucket_public_access_block.models]
}

resource "aws_iam_role" "worker" {
  name               = local.role_name
  description        = "synkti workers of project ${var.project_name}"
  assume_role_policy = file("${path.module}/../policies/ec2-trust-policy.json")
  tags               = local.tags
}

resource "aws_iam_role_policy" "worker" {
  name   = local.worker_policy_name
  role   = aws_iam_role.worker.id
  policy = templatefile("${path.module}/../policies/worker-policy.json", local.policy_vars)
}

resource "aws_iam_instance_profile" "worker" {
  name = local.instance_profile_name
  role = aws_iam_role.worker.name
  tags = local.tags
}

# Peers only: the model server and status ports are open to members of this group, nothing to
# the world, and no SSH at all (Session Manager instead). Inline rules make terraform own the
# whole rule set, as `synkti infra up` does (it revokes any other rule).
resource "aws_security_group" "workers" {
  name        = local.security_group_name
  description = "synkti workers of project ${var.project_name}: peers only, no SSH"
  vpc_id      = data.aws_vpc.default.id
  tags        = local.tags

  ingress {
    description = "vLLM from peer workers"
    protocol    = "tcp"
    from_port   = local.model_server_port
    to_port     = local.model_server_port
    self        = true
  }

  ingress {
    description = "synkti status from peer workers"
    protocol    = "tcp"
    from_port   = local.status_port
    to_port     = local.status_port
    self        = true
  }

  # Workers fetch from S3, Hugging Face and the EC2 API: all egress, as a new group has by default.
  egress {
    protocol    = "-1"
    from_port   = 0
    to_port     = 0
    cidr_blocks = ["0.0.0.0/0"]
  }
}
