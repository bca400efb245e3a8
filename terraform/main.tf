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

# Every zone's default subnet: the load balancer is enabled wherever a worker may run.
data "aws_subnets" "default" {
  filter {
    name   = "vpc-id"
    values = [data.aws_vpc.default.id]
  }
  filter {
    name   = "default-for-az"
    values = ["true"]
  }
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

  # Load balancer and target group names (src/infra/names.ts elbName): <project>-<suffix> when it
  # fits AWS's rules (32 characters, no leading "internal-", no "--"), else a shortened head, the
  # first 6 hex digits of sha256(project) and the suffix.
  lb_suffix          = "synkti"
  tg_suffix          = "synkti-vllm"
  elb_name_hash      = substr(sha256(var.project_name), 0, 6)
  elb_name_head      = replace(replace(var.project_name, "/^internal-/", "int-"), "/-+/", "-")
  elb_name_plain_ok  = !startswith(var.project_name, "internal-") && !strcontains(var.project_name, "--")
  load_balancer_name = local.elb_name_plain_ok && length("${var.project_name}-${local.lb_suffix}") <= 32 ? "${var.project_name}-${local.lb_suffix}" : "${trimsuffix(substr(local.elb_name_head, 0, 32 - length(local.lb_suffix) - 8), "-")}-${local.elb_name_hash}-${local.lb_suffix}"
  target_group_name  = local.elb_name_plain_ok && length("${var.project_name}-${local.tg_suffix}") <= 32 ? "${var.project_name}-${local.tg_suffix}" : "${trimsuffix(substr(local.elb_name_head, 0, 32 - length(local.tg_suffix) - 8), "-")}-${local.elb_name_hash}-${local.tg_suffix}"
  lb_security_group  = "${var.project_name}-synkti-lb"
  # Created by `synkti infra up` only, never here: terraform's state would hold the key in clear.
  api_key_parameter = "/synkti/${var.project_name}/api-key"

  # src/infra/ports.ts and src/infra/desired.ts
  model_server_port      = 8000
  status_port            = 8080
  checkpoint_expiry_days = 7
  abort_multipart_days   = 7
  bucket_encryption      = "AES256"

  # src/infra/load-balancer-settings.ts and src/infra/ports.ts
  http_port                    = 80
  https_port                   = 443
  lb_idle_timeout_seconds      = 600
  routing_algorithm            = "least_outstanding_requests"
  deregistration_delay_seconds = 90
  health_path                  = "/healthz"
  health_interval_seconds      = 5
  health_timeout_seconds       = 4
  healthy_threshold            = 2
  unhealthy_threshold          = 2
  redirect_status              = "HTTP_301"
  https                        = var.certificate_arn != null

  # The placeholders of policies/*.json (src/infra/policies.ts PolicyVars).
  policy_vars = {
    partition          = data.aws_partition.current.partition
    region             = var.region
    account_id         = data.aws_caller_identity.current.account_id
    project            = var.project_name
    bucket             = local.bucket_name
    role               = local.role_name
    instance_profile   = local.instance_profile_name
    checkpoints_prefix = local.checkpoints_prefix
    target_group       = local.target_group_name
    api_key_parameter  = local.api_key_parameter
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
  policy = local.worker_policy
}

# The instance types and market go into LaunchOnlyTaggedWorkers as src/infra/compute-policy.ts puts
# them: ec2:InstanceType = the types (none: no condition), and ec2:InstanceMarketType = spot left
# out when on-demand is allowed. Statements are encoded one by one (each has its own object type,
# which a conditional over them could not mix), then joined.
locals {
  worker_policy_template = jsondecode(templatefile("${path.module}/../policies/worker-policy.json", local.policy_vars))
  worker_policy_statements = [for s in local.worker_policy_template.Statement : s.Sid != "LaunchOnlyTaggedWorkers" ? jsonencode(s) : jsonencode(merge(s, {
    Condition = merge(s.Condition, {
      StringEquals = merge(
        { for k, v in s.Condition.StringEquals : k => v if !(k == "ec2:InstanceMarketType" && var.allow_on_demand) },
        # Sorted and deduplicated, as synkti records them: both tools then write the same policy.
        { for k, v in { "ec2:InstanceType" = sort(distinct(var.instance_types)) } : k => v if length(var.instance_types) > 0 },
      )
    })
  }))]
  worker_policy = "{\"Version\":${jsonencode(local.worker_policy_template.Version)},\"Statement\":[${join(",", local.worker_policy_statements)}]}"
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

  ingress {
    description     = "vLLM from the load balancer"
    protocol        = "tcp"
    from_port       = local.model_server_port
    to_port         = local.model_server_port
    security_groups = [aws_security_group.load_balancer.id]
  }

  ingress {
    description     = "health checks from the load balancer"
    protocol        = "tcp"
    from_port       = local.status_port
    to_port         = local.status_port
    security_groups = [aws_security_group.load_balancer.id]
  }

  # Workers fetch from S3, Hugging Face and the EC2 API: all egress, as a new group has by default.
  egress {
    protocol    = "-1"
    from_port   = 0
    to_port     = 0
    cidr_blocks = ["0.0.0.0/0"]
  }
}

# Only the CIDRs the operator names (none by default), on every listener port. `synkti infra up`
# keeps the group's own rules as the record (--allow-cidr adds, --revoke-cidr removes); here the
# list is var.allowed_cidrs.
resource "aws_security_group" "load_balancer" {
  name        = local.lb_security_group
  description = "synkti load balancer of project ${var.project_name}: only the CIDRs the operator allows"
  vpc_id      = data.aws_vpc.default.id
  tags        = local.tags

  dynamic "ingress" {
    for_each = setproduct(var.allowed_cidrs, local.https ? [local.http_port, local.https_port] : [local.http_port])
    content {
      description = "allowed by synkti infra up --allow-cidr"
      protocol    = "tcp"
      from_port   = ingress.value[1]
      to_port     = ingress.value[1]
      cidr_blocks = [ingress.value[0]]
    }
  }

  # To the workers' vLLM and status ports (a new group's default egress, as infra up leaves it).
  egress {
    protocol    = "-1"
    from_port   = 0
    to_port     = 0
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_lb" "workers" {
  name               = local.load_balancer_name
  load_balancer_type = "application"
  internal           = var.internal
  ip_address_type    = "ipv4"
  subnets            = data.aws_subnets.default.ids
  security_groups    = [aws_security_group.load_balancer.id]
  idle_timeout       = local.lb_idle_timeout_seconds
  tags               = local.tags
}

resource "aws_lb_target_group" "vllm" {
  name                          = local.target_group_name
  protocol                      = "HTTP"
  port                          = local.model_server_port
  target_type                   = "instance"
  vpc_id                        = data.aws_vpc.default.id
  load_balancing_algorithm_type = local.routing_algorithm
  deregistration_delay          = local.deregistration_delay_seconds
  tags                          = local.tags

  health_check {
    enabled             = true
    protocol            = "HTTP"
    path                = local.health_path
    port                = local.status_port
    interval            = local.health_interval_seconds
    timeout             = local.health_timeout_seconds
    healthy_threshold   = local.healthy_threshold
    unhealthy_threshold = local.unhealthy_threshold
    matcher             = "200"
  }
}

# HTTP forwards, or redirects to HTTPS once a certificate is given.
resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.workers.arn
  port              = local.http_port
  protocol          = "HTTP"

  default_action {
    type             = local.https ? "redirect" : "forward"
    target_group_arn = local.https ? null : aws_lb_target_group.vllm.arn

    dynamic "redirect" {
      for_each = local.https ? [1] : []
      content {
        protocol    = "HTTPS"
        port        = tostring(local.https_port)
        status_code = local.redirect_status
      }
    }
  }
}

resource "aws_lb_listener" "https" {
  count             = local.https ? 1 : 0
  load_balancer_arn = aws_lb.workers.arn
  port              = local.https_port
  protocol          = "HTTPS"
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.vllm.arn
  }
}

# Not declared here: the API key (SSM SecureString local.api_key_parameter). `synkti infra up`
# generates it; terraform would keep its value in the state file, in clear.
