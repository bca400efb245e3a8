# The same inputs as `synkti infra up`: a project name (validated by the same rule as
# src/infra/names.ts) and a region.

variable "project_name" {
  description = "synkti project name: 3-40 characters, lowercase letters, digits and hyphens, starting and ending with a letter or digit"
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9](?:[a-z0-9-]{1,38})[a-z0-9]$", var.project_name)) && !startswith(var.project_name, "xn--")
    error_message = "project_name must be 3-40 characters: lowercase letters, digits and hyphens, starting and ending with a letter or digit, and not start with 'xn--'."
  }
}

variable "region" {
  description = "AWS region for the bucket and the security group (IAM is global)"
  type        = string
  default     = "us-east-1"
}

variable "allowed_cidrs" {
  description = "IPv4 CIDRs admitted to the load balancer (synkti infra up --allow-cidr); none by default"
  type        = list(string)
  default     = []
}

variable "internal" {
  description = "VPC-only load balancer (synkti infra up --internal); changing it replaces the load balancer and its URL"
  type        = bool
  default     = false
}

variable "certificate_arn" {
  description = "ACM certificate for HTTPS on 443 (synkti infra up --certificate-arn); HTTP then redirects to HTTPS"
  type        = string
  default     = null
}

variable "instance_types" {
  description = "instance types workers may launch (synkti infra up --instance-types), written into the worker policy as ec2:InstanceType; empty: any type"
  type        = list(string)
  default     = []
}

variable "allow_on_demand" {
  description = "let a replacement be on-demand as the last resort (synkti infra up --allow-on-demand); false: spot only (ec2:InstanceMarketType = spot)"
  type        = bool
  default     = false
}
