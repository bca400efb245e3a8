output "bucket" {
  description = "models bucket: bin/synkti, <model>/..., checkpoints/"
  value       = aws_s3_bucket.models.bucket
}

output "role_arn" {
  value = aws_iam_role.worker.arn
}

output "instance_profile" {
  description = "pass to RunInstances as IamInstanceProfile.Name"
  value       = aws_iam_instance_profile.worker.name
}

output "security_group_id" {
  value = aws_security_group.workers.id
}

output "load_balancer_dns_name" {
  description = "the endpoint: http(s)://<this>/v1/..."
  value       = aws_lb.workers.dns_name
}

output "target_group_arn" {
  value = aws_lb_target_group.vllm.arn
}

output "api_key_parameter" {
  description = "SSM SecureString created by synkti infra up (not by terraform)"
  value       = local.api_key_parameter
}
