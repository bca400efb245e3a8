import { zonesOffering } from "../../aws/ec2-discovery.js";
import type { InstanceTypeInfo } from "../../aws/instance-types.js";
import { quotaFor, type QuotaObservation } from "../../aws/quotas.js";
import { describeCompute, recordedCompute, typesNotAllowed, DEFAULT_COMPUTE, type ComputePolicy } from "../../infra/compute-policy.js";
import { observeRolePolicy } from "../../infra/observe-iam.js";
import type { Finding, Requirement } from "../types.js";
import { launchImage, sharedQuota, sharedTypeInfo } from "./compute.js";
import { preflightCommand, synktiCommand, type DeployerContext } from "./context.js";

/**
 * The launch's instance types (`--instance-types a,b`, and `--on-demand-fallback`), each as a
 * replacement could be launched in it:
 * - allowed by the worker policy (`infra up --instance-types`), on-demand too when asked for;
 * - offered in some zone of the region;
 * - the same GPU count as the first type (vLLM's tensor parallelism is set by the GPUs it finds:
 *   a replacement with fewer would not load the model, with more would serve it differently);
 * - an architecture the image runs (the binary and the image are x86_64);
 * - spot vCPU quota of its family for the workers plus one replacement in it, and the on-demand
 *   quota likewise when the fallback is allowed (each family's quota is separate).
 * The first type's spot quota and facts are also the "spot-quota" requirement's (read once); quotas Service Quotas cannot
 * read (an emulator knows only vpc) warn, as there.
 */
export interface TypesObservation {
  policy: ComputePolicy;
  imageArchitecture: string | undefined;
  types: Array<{ type: string; zones: string[]; info: InstanceTypeInfo | undefined }>;
  quotas: Array<{ market: "spot" | "on-demand"; quota: QuotaObservation }>;
}

export const instanceTypesAllowed: Requirement<DeployerContext, TypesObservation> = {
  id: "instance-types",
  title: "instance types allowed, offered and alike (GPUs, architecture, quotas)",
  dependsOn: ["credentials", "region", "ami"],
  async observe(ctx, signal) {
    const markets: Array<"spot" | "on-demand"> = ctx.onDemandFallback ? ["spot", "on-demand"] : ["spot"];
    const quotaKeys = [...new Map(markets.flatMap((m) => ctx.instanceTypes.map((t) => [`${m}/${quotaFor(m, t).code}`, { market: m, type: t }] as const))).values()];
    const [policy, image, types, quotas] = await Promise.all([
      observeRolePolicy(ctx, ctx.names, signal).then((seen) => (seen.state === "present" ? recordedCompute(seen.document) : DEFAULT_COMPUTE)),
      launchImage(ctx),
      Promise.all(ctx.instanceTypes.map(async (type) => ({ type, zones: await zonesOffering(ctx.clients, type, signal), info: await sharedTypeInfo(ctx, type) }))),
      Promise.all(quotaKeys.map(async ({ market, type }) => ({ market, quota: await sharedQuota(ctx, market, type) }))),
    ]);
    return { policy, imageArchitecture: image?.architecture, types, quotas };
  },
  verdict: typesVerdict,
};

export function typesVerdict(obs: TypesObservation, ctx: DeployerContext): Finding {
  const asked = ctx.instanceTypes;
  const notAllowed = typesNotAllowed(asked, obs.policy);
  if (notAllowed.length > 0) {
    const union = [...new Set([...obs.policy.instanceTypes, ...asked])];
    return {
      status: "fail",
      observed: `${notAllowed.join(", ")} not allowed by the worker policy (allowed: ${describeCompute(obs.policy)})`,
      fix: { command: synktiCommand(ctx, "infra up", ["--instance-types", union.join(",")]) },
    };
  }
  if (ctx.onDemandFallback && !obs.policy.allowOnDemand) {
    return {
      status: "fail",
      observed: `--on-demand-fallback, but the worker policy allows spot launches only`,
      fix: { command: synktiCommand(ctx, "infra up", ["--allow-on-demand"]) },
    };
  }
  const others = (type: string) => asked.filter((t) => t !== type);
  const without = (type: string) => ({ command: preflightCommand({ ...ctx, instanceTypes: others(type) }), needs: [] as string[] });
  for (const t of obs.types) {
    if (t.zones.length === 0) return { status: "fail", observed: `${t.type} is offered in no availability zone of ${ctx.region}`, fix: without(t.type) };
    if (!t.info) return { status: "fail", observed: `${t.type} is unknown in ${ctx.region} (DescribeInstanceTypes)`, fix: without(t.type) };
  }
  const [first] = obs.types;
  for (const t of obs.types.slice(1)) {
    if (t.info!.gpus !== first!.info!.gpus) {
      return { status: "fail", observed: `${t.type} has ${t.info!.gpus} GPU(s), ${first!.type} ${first!.info!.gpus}: a replacement must serve the model alike`, fix: without(t.type) };
    }
  }
  if (obs.imageArchitecture) {
    const wrong = obs.types.find((t) => !t.info!.architectures.includes(obs.imageArchitecture!));
    if (wrong) return { status: "fail", observed: `${wrong.type} runs ${wrong.info!.architectures.join("/")}, the image is ${obs.imageArchitecture}`, fix: without(wrong.type) };
  }
  const notes: string[] = [];
  for (const { market, quota } of obs.quotas) {
    if (!quota.known) {
      // The first type's spot quota unread is already the "spot-quota" requirement's warning.
      if (!(market === "spot" && asked[0] && quota.code === quotaFor("spot", asked[0]).code)) notes.push(`${market} quota ${quota.code} not verified`);
      continue;
    }
    const inFamily = obs.types.filter((t) => quotaFor(market, t.type).code === quota.code);
    const needed = Math.max(...inFamily.map((t) => (ctx.workers + 1) * (t.info!.vcpus ?? 0)));
    if (quota.vcpus < needed) {
      return {
        status: "fail",
        observed: `${quota.quotaName}: ${quota.vcpus} vCPUs; ${ctx.workers} workers + 1 replacement of ${inFamily.map((t) => t.type).join("/")} need ${needed}`,
        fix: { command: `aws service-quotas request-service-quota-increase --service-code ec2 --quota-code ${quota.code} --desired-value ${needed}${ctx.region ? ` --region ${ctx.region}` : ""}` },
      };
    }
  }
  const gpus = first?.info?.gpus ?? 0;
  const observed = `${asked.join(", ")} allowed, offered, ${gpus} GPU(s) each${ctx.onDemandFallback ? ", on-demand last" : ""}`;
  return notes.length > 0 ? { status: "warn", observed: `${observed}; ${notes.join("; ")}` } : { status: "pass", observed };
}
