/**
 * The infra capability's public face: permanent resources (bucket, worker role and its policy,
 * instance profile, security group; the load balancer, its listeners, group and target group, and
 * the API key's parameter), created once on purpose by `synkti infra up`, checked by
 * `infra status` and preflight, removed only by `infra destroy --yes`.
 *
 * Preflight reuses the observations (one function and one result type per resource) and the pure
 * planners (plan*: observation -> what is missing or drifted, with reasons).
 */
export type { InfraDeps, ObserveDeps, ResourceKind } from "./deps.js";
export { RESOURCE_KINDS } from "./deps.js";
export * from "./names.js";
export * from "./ports.js";
export { accountContext } from "./account.js";
export { desiredInfra, type DesiredInfra, type LoadBalancerOptions, BUCKET_ENCRYPTION, CHECKPOINT_EXPIRY_DAYS, ABORT_MULTIPART_DAYS } from "./desired.js";
export { policyVars, workerPolicy, bucketPolicy, trustPolicy, type AccountContext, type PolicyDocument } from "./policies.js";
export { observeInfra, type InfraObservation } from "./observe.js";
export { observeBucket, type BucketObservation } from "./observe-bucket.js";
export {
  observeRole,
  observeRolePolicy,
  observeInstanceProfile,
  type RoleObservation,
  type RolePolicyObservation,
  type InstanceProfileObservation,
} from "./observe-iam.js";
export { observeSecurityGroup, observeLoadBalancerSecurityGroup, type SecurityGroupObservation } from "./observe-security-group.js";
export {
  observeLoadBalancer,
  observeTargetGroup,
  observeApiKey,
  type LoadBalancerObservation,
  type TargetGroupObservation,
  type ApiKeyObservation,
} from "./observe-load-balancer.js";
export { planLoadBalancerSecurityGroup, recordedCidrs } from "./plan-load-balancer-security-group.js";
export { planTargetGroup, planLoadBalancer, planListeners, planApiKey, wantedListeners } from "./plan-load-balancer.js";
export * from "./load-balancer-settings.js";
export { cidrProblem, validateCidrs, isPublicCidr, validateCertificateArn } from "./cidr.js";
export { planInfra } from "./plan.js";
export { planBucket } from "./plan-bucket.js";
export { planRole, planRolePolicy, planInstanceProfile, wantedRolePolicy } from "./plan-iam.js";
export {
  parseInstanceTypes,
  recordedCompute,
  resolveCompute,
  withCompute,
  describeCompute,
  typesNotAllowed,
  DEFAULT_COMPUTE,
  type ComputePolicy,
  type ComputeOptions,
} from "./compute-policy.js";
export { planSecurityGroup } from "./plan-security-group.js";
export type { InfraPlan, AnyStep, PlanAction, Blocker } from "./plan-types.js";
export { infraUp, describePlan, type UpResult, type UpAction, type PlannedAction } from "./up.js";
export { infraStatus, statusOf, type InfraStatus, type ResourceStatus, type ResourceState } from "./status.js";
export { infraDestroy, type DestroyResult, type DestroyResource, type DestroyAction } from "./destroy.js";
