// The worker's side of the project's load balancer: join when healthy (auth verified), drain on stop.
export { checkModelServerAuth, GUARDED_PATH, type AuthCheck } from "./auth-check.js";
export { drainWorker, UNREGISTERED_SETTLE_MS, type DrainDeps, type DrainOptions, type DrainResult, type DrainTarget } from "./drain.js";
export { LoadBalancerMember, DEFAULT_MEMBER_OPTIONS, type MemberDeps, type MemberOptions } from "./member.js";
export { TargetRegistration, elbTargetGroupApi, type TargetGroupApi } from "./target-registration.js";
