/**
 * One ALB-style HTTP health check: GET <path> on the target's health-check address, no body read
 * beyond what is needed, the group's timeout, success when the status matches the group's matcher.
 * Failures carry ALB's reason codes (Target.ResponseCodeMismatch, Target.Timeout,
 * Target.FailedHealthChecks), so `targets()` reads like DescribeTargetHealth.
 */
import http from "node:http";
import { matchesCode, type CheckResult } from "./targets.js";

export interface Endpoint {
  host: string;
  port: number;
}

export function healthCheck(endpoint: Endpoint, path: string, matcher: string, timeoutMs: number): Promise<CheckResult> {
  return new Promise<CheckResult>((resolve) => {
    const request = http.get({ host: endpoint.host, port: endpoint.port, path, agent: false, headers: { "user-agent": "ELB-HealthChecker/2.0" } }, (response) => {
      response.resume(); // the body does not matter, only the status
      clearTimeout(timer);
      const status = response.statusCode ?? 0;
      resolve(matchesCode(status, matcher) ? { ok: true } : { ok: false, reason: "Target.ResponseCodeMismatch", description: `Health checks failed with these codes: [${status}]` });
      request.destroy();
    });
    const timer = setTimeout(() => {
      resolve({ ok: false, reason: "Target.Timeout", description: "Request timed out" });
      request.destroy();
    }, timeoutMs);
    request.on("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ ok: false, reason: "Target.FailedHealthChecks", description: `Health checks failed (${error.code ?? error.message})` });
    });
  });
}
