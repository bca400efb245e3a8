/**
 * The narrow ELBv2 calls for the load balancer's listeners, in plain shapes: a default action is
 * either a forward to one target group or a redirect to HTTPS (anything else reads as "other",
 * which the planner repairs).
 */
import type { Action, Listener } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { AwsClients } from "./clients.js";
import { opts } from "./shapes.js";

/** A listener's default action, reduced to the two kinds synkti uses. */
export type ListenerAction =
  | { type: "forward"; targetGroupArn: string }
  | { type: "redirect-https"; port: string; statusCode: string }
  | { type: "other"; detail: string };

export interface ListenerSpec {
  port: number;
  protocol: "HTTP" | "HTTPS";
  action: ListenerAction;
  certificateArn?: string;
}

export interface ListenerInfo extends ListenerSpec {
  arn: string;
}

const sdk = () => import("@aws-sdk/client-elastic-load-balancing-v2");

function fromAction(actions: Action[] | undefined): ListenerAction {
  const [action, ...rest] = actions ?? [];
  const forwardTo = action?.TargetGroupArn ?? action?.ForwardConfig?.TargetGroups?.[0]?.TargetGroupArn;
  if (rest.length === 0 && action?.Type === "forward" && forwardTo && (action.ForwardConfig?.TargetGroups?.length ?? 1) === 1) {
    return { type: "forward", targetGroupArn: forwardTo };
  }
  const r = action?.RedirectConfig;
  if (rest.length === 0 && action?.Type === "redirect" && r?.Protocol === "HTTPS") {
    return { type: "redirect-https", port: r.Port ?? "", statusCode: r.StatusCode ?? "" };
  }
  return { type: "other", detail: (actions ?? []).map((a) => a.Type ?? "?").join("+") || "none" };
}

function toAction(action: ListenerAction) {
  if (action.type === "forward") return [{ Type: "forward" as const, TargetGroupArn: action.targetGroupArn }];
  if (action.type === "redirect-https") {
    return [{ Type: "redirect" as const, RedirectConfig: { Protocol: "HTTPS", Port: action.port, StatusCode: action.statusCode as "HTTP_301" } }];
  }
  throw new Error(`cannot write listener action ${action.detail}`);
}

function toListener(l: Listener): ListenerInfo {
  const certificateArn = l.Certificates?.[0]?.CertificateArn;
  return {
    arn: l.ListenerArn ?? "",
    port: l.Port ?? 0,
    protocol: (l.Protocol ?? "HTTP") as "HTTP" | "HTTPS",
    action: fromAction(l.DefaultActions),
    ...(certificateArn ? { certificateArn } : {}),
  };
}

export async function listListeners(clients: AwsClients, loadBalancerArn: string, signal?: AbortSignal): Promise<ListenerInfo[]> {
  const [{ DescribeListenersCommand }, elb] = await Promise.all([sdk(), clients.elbv2()]);
  const listeners: ListenerInfo[] = [];
  let Marker: string | undefined;
  do {
    const out = await elb.send(new DescribeListenersCommand({ LoadBalancerArn: loadBalancerArn, Marker }), opts(signal));
    listeners.push(...(out.Listeners ?? []).map(toListener));
    Marker = out.NextMarker;
  } while (Marker);
  return listeners;
}

export async function createListener(clients: AwsClients, loadBalancerArn: string, spec: ListenerSpec): Promise<string> {
  const [{ CreateListenerCommand }, elb] = await Promise.all([sdk(), clients.elbv2()]);
  const out = await elb.send(
    new CreateListenerCommand({
      LoadBalancerArn: loadBalancerArn,
      Port: spec.port,
      Protocol: spec.protocol,
      DefaultActions: toAction(spec.action),
      ...(spec.certificateArn ? { Certificates: [{ CertificateArn: spec.certificateArn }] } : {}),
    }),
  );
  return out.Listeners?.[0]?.ListenerArn ?? "";
}

export async function modifyListener(clients: AwsClients, listenerArn: string, spec: ListenerSpec): Promise<void> {
  const [{ ModifyListenerCommand }, elb] = await Promise.all([sdk(), clients.elbv2()]);
  await elb.send(
    new ModifyListenerCommand({
      ListenerArn: listenerArn,
      Port: spec.port,
      Protocol: spec.protocol,
      DefaultActions: toAction(spec.action),
      ...(spec.certificateArn ? { Certificates: [{ CertificateArn: spec.certificateArn }] } : {}),
    }),
  );
}

export async function deleteListener(clients: AwsClients, listenerArn: string): Promise<void> {
  const [{ DeleteListenerCommand }, elb] = await Promise.all([sdk(), clients.elbv2()]);
  await elb.send(new DeleteListenerCommand({ ListenerArn: listenerArn }));
}
