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
