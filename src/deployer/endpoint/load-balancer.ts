import type { AwsClients } from "../../aws/clients.js";
import { listListeners } from "../../aws/elbv2-listeners.js";
import { findLoadBalancer, findTargetGroup } from "../../aws/elbv2.js";
import { deregisterTargets, describeTargetHealth, type TargetHealthInfo } from "../../aws/elbv2-targets.js";
import { getSecureString } from "../../aws/ssm.js";
import { DEREGISTRATION_DELAY_ATTRIBUTE, DEREGISTRATION_DELAY_SECONDS } from "../../infra/load-balancer-settings.js";
import type { ProjectNames } from "../../infra/names.js";

/**
 * What the deployer reads of the project's load balancer (endpoint, status) and the one thing it
 * does to it (down deregisters the targets). `infra up` owns creating it; the workers register
 * themselves. A narrow interface, so unit tests drive status and down with a fake.
 */
export type { TargetHealthInfo };

export interface LoadBalancerView {
  name: string;
  dnsName: string;
  scheme: string;
  /** AWS's provisioning state: `active` serves, `provisioning` does not resolve yet. */
  state: string;
  listeners: Array<{ protocol: "HTTP" | "HTTPS"; port: number }>;
}

export interface TargetGroupView {
  name: string;
  arn: string;
  /** How long AWS keeps a deregistered target's in-flight requests (the attribute, else synkti's default). */
  deregistrationDelaySeconds: number;
}

export interface ProjectLoadBalancer {
  /** undefined when the project has no load balancer (before `infra up`). */
  loadBalancer(names: ProjectNames, signal?: AbortSignal): Promise<LoadBalancerView | undefined>;
  targetGroup(names: ProjectNames, signal?: AbortSignal): Promise<TargetGroupView | undefined>;
  targetHealth(targetGroupArn: string, signal?: AbortSignal): Promise<TargetHealthInfo[]>;
  deregister(targetGroupArn: string, targets: Array<{ id: string; port?: number }>, signal?: AbortSignal): Promise<void>;
}

/** The API key's SecureString, decrypted (only `synkti endpoint --show-key` asks). */
export type SecretReader = (parameter: string, signal?: AbortSignal) => Promise<string | undefined>;

export function createProjectLoadBalancer(clients: AwsClients): ProjectLoadBalancer {
  return {
    async loadBalancer(names, signal) {
      const lb = await findLoadBalancer(clients, names.loadBalancer, signal);
      if (!lb) return undefined;
      const listeners = await listListeners(clients, lb.arn, signal);
      return {
        name: lb.name,
        dnsName: lb.dnsName,
        scheme: lb.scheme,
        state: lb.state,
        listeners: listeners.map((l) => ({ protocol: l.protocol, port: l.port })),
      };
    },
    async targetGroup(names, signal) {
      const tg = await findTargetGroup(clients, names.targetGroup, signal);
      if (!tg) return undefined;
      const delay = Number(tg.attributes[DEREGISTRATION_DELAY_ATTRIBUTE]);
      return { name: tg.name, arn: tg.arn, deregistrationDelaySeconds: Number.isFinite(delay) && delay >= 0 ? delay : DEREGISTRATION_DELAY_SECONDS };
    },
    targetHealth: (arn, signal) => describeTargetHealth(clients, arn, signal),
    deregister: (arn, targets, signal) => deregisterTargets(clients, arn, targets, signal),
  };
}

export const createSecretReader =
  (clients: AwsClients): SecretReader =>
  (parameter, signal) =>
    getSecureString(clients, parameter, signal);
